namespace AgentIdp.Core.Vault;

/// <summary>
/// Vault could not do what was asked. <see cref="Status"/> is null when no answer came (unreachable, timed
/// out, or the circuit is open after repeated failures). The message holds Vault's own error messages,
/// never a secret.
/// </summary>
public sealed class VaultException : Exception
{
    public VaultException(string message, int? status = null, IReadOnlyList<string>? errors = null, Exception? innerException = null)
        : base(message, innerException) => (Status, Errors) = (status, errors ?? []);

    public VaultException()
    {
        Errors = [];
    }

    public VaultException(string message) : this(message, null, null, null)
    {
    }

    public VaultException(string message, Exception innerException) : this(message, null, null, innerException)
    {
    }

    public int? Status { get; }
    public IReadOnlyList<string> Errors { get; }

    public bool PermissionDenied => Status == 403;
}
