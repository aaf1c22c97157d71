using System.Security.Cryptography;
using System.Text;
using AgentIdp.Core.Vault;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Secrets;

public enum VaultCheck { Match, Mismatch, Missing }

/// <summary>
/// Client secrets kept in Vault KV v2 as <c>{"clientSecret": "…"}</c> at
/// <c>{mount}/data/agentidp/agents/{agentId}/credentials/{credentialId}</c>.
/// </summary>
public sealed partial class VaultSecretStore(VaultKvClient vault, IOptions<VaultOptions> options, ILogger<VaultSecretStore> logger)
{
    public const string SecretField = "clientSecret";

    public VaultSecretPath PathFor(Guid agentId, Guid credentialId) => VaultSecretPath.ForCredential(options.Value.Mount, agentId, credentialId);

    /// <summary>Writes the secret as a new version at the path; returns that version.</summary>
    public Task<int> WriteAsync(VaultSecretPath path, string secret, CancellationToken cancellationToken) =>
        vault.WriteAsync(path, new Dictionary<string, string> { [SecretField] = secret }, checkAndSet: null, cancellationToken);

    /// <summary>Compares a presented secret, in constant time, with exactly the version the credential names.</summary>
    public async Task<VaultCheck> VerifyAsync(string storedPath, int version, string presented, CancellationToken cancellationToken)
    {
        var read = await vault.ReadAsync(VaultSecretPath.Parse(storedPath), version, cancellationToken);
        if (read?.Data is null || !read.Data.TryGetValue(SecretField, out var stored))
        {
            LogMissing(storedPath, version);
            return VaultCheck.Missing;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(stored))
            ? VaultCheck.Match
            : VaultCheck.Mismatch;
    }

    /// <summary>Destroys every version of the secret and its metadata.</summary>
    public Task DestroyAsync(string storedPath, CancellationToken cancellationToken) =>
        vault.DestroyAllAsync(VaultSecretPath.Parse(storedPath), cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vault has no secret for version {Version} at {Path}, which a credential names: it cannot authenticate.")]
    private partial void LogMissing(string path, int version);
}
