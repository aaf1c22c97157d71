namespace AgentIdp.Core.Credentials;

/// <summary>
/// A Vault path whose secret must be destroyed unless an active credential names it: queued (and
/// committed) before a secret is written to Vault, and before one is destroyed; removed in the same
/// transaction that commits the credential, or once the secret is destroyed. What a failure leaves
/// behind here, the cleanup pass finishes.
/// </summary>
public sealed class VaultCleanupQueueEntry
{
    public required string Path { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
}
