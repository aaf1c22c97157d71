using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Vault;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentIdp.Core.Credentials;

/// <summary>A credential together with the one copy of its secret that ever leaves AgentIdP.</summary>
public sealed record IssuedCredential(Credential Credential, string ClientSecret);

/// <summary>
/// Makes credentials' secrets and puts them where they live: a bcrypt hash saved with the credential, or,
/// in Vault mode (VAULT_ADDR set), a KV v2 version whose path and number the credential keeps.
/// <para>
/// The caller holds the agent's row lock throughout, so the writes for one agent never interleave. In
/// Vault mode they are ordered so that no failure, at any step, leaves a caller holding a secret that
/// cannot authenticate, or a secret in Vault that nothing points to for longer than a cleanup pass:
/// </para>
/// <list type="number">
/// <item>the path is queued for cleanup and committed (<see cref="VaultCleanupQueue.EnqueueAsync"/>);</item>
/// <item>the secret is written to Vault, which answers with its version;</item>
/// <item>the caller's transaction points the credential at that path and version and takes the path off
/// the queue (<see cref="SecretWrite.ApplyAsync"/>); only once it commits is the secret shown.</item>
/// </list>
/// If step 2 fails (or lands with its answer lost), step 3 does not commit, or the process dies between
/// them, the path stays queued and is destroyed unless an active credential names it: at once when the
/// request can, otherwise by the cleanup pass. A rotation writes a new version beside the one the
/// credential names; until step 3 commits, the old version still authenticates and the new one does not,
/// because only the version a credential names is ever read.
/// </summary>
public sealed partial class CredentialSecrets(SecretHasher hasher, IServiceProvider services, ILogger<CredentialSecrets> logger, VaultSecretStore? vault = null)
{
    public bool VaultMode => vault is not null;

    /// <summary>A secret for a new credential, stored where it will live.</summary>
    public Task<SecretWrite> WriteNewAsync(Guid agentId, Guid credentialId, CancellationToken cancellationToken) =>
        WriteAsync(agentId, credentialId, existingPath: null, cancellationToken);

    /// <summary>A new secret for an existing credential: a new version at its path, moving a bcrypt credential to Vault in Vault mode.</summary>
    public Task<SecretWrite> WriteRotationAsync(Credential credential, CancellationToken cancellationToken)
    {
        if (vault is null && credential.IsVaultBacked)
        {
            LogVaultSecretLeftBehind(credential.Id, credential.VaultPath!);
        }
        return WriteAsync(credential.AgentId, credential.Id, credential.IsVaultBacked ? credential.VaultPath : null, cancellationToken);
    }

    /// <summary>Within a revocation's transaction: a Vault-backed credential's secret is queued for destruction.</summary>
    public Task QueueDestructionAsync(Credential credential, CancellationToken cancellationToken) =>
        credential.VaultPath is { } path && vault is not null ? Cleanup.EnqueueWithinAsync(path, cancellationToken) : Task.CompletedTask;

    /// <summary>Once a revocation committed: destroys every version of the secret; what fails is left to the cleanup pass.</summary>
    public Task DestroyQueuedAsync(Credential credential, CancellationToken cancellationToken) =>
        credential.VaultPath is { } path && vault is not null ? Cleanup.SettleAsync(path, null, cancellationToken) : Task.CompletedTask;

    private VaultCleanupQueue Cleanup => services.GetRequiredService<VaultCleanupQueue>();

    private async Task<SecretWrite> WriteAsync(Guid agentId, Guid credentialId, string? existingPath, CancellationToken cancellationToken)
    {
        var secret = ClientSecret.Generate(credentialId);
        if (vault is null)
        {
            return new SecretWrite(null, secret, hasher.Hash(secret), null, null, default);
        }
        var path = existingPath ?? vault.PathFor(agentId, credentialId).ToString();
        var queuedAt = await Cleanup.EnqueueAsync(path, cancellationToken);
        try
        {
            var version = await vault.WriteAsync(VaultSecretPath.Parse(path), secret, cancellationToken);
            return new SecretWrite(Cleanup, secret, null, path, version, queuedAt);
        }
        catch (VaultException)
        {
            // The write may have landed with its answer lost: settle the entry (destroying only what no credential names).
            await Cleanup.SettleAsync(path, queuedAt, CancellationToken.None);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Credential {CredentialId} moves from Vault to bcrypt because VAULT_ADDR is no longer set; its old secret stays at {Path} until someone destroys it.")]
    private partial void LogVaultSecretLeftBehind(Guid credentialId, string path);
}

/// <summary>
/// A secret made and stored, not yet committed to a credential. Call <see cref="ApplyAsync"/> inside the
/// transaction that saves the credential and <see cref="Complete"/> once it committed; disposing it before
/// that settles what it wrote (the secret is destroyed unless a credential names its path).
/// </summary>
public sealed class SecretWrite : IAsyncDisposable
{
    private readonly VaultCleanupQueue? _cleanup;
    private readonly string? _hash;
    private readonly string? _vaultPath;
    private readonly int? _vaultVersion;
    private readonly DateTimeOffset _queuedAt;
    private bool _completed;

    internal SecretWrite(VaultCleanupQueue? cleanup, string clientSecret, string? hash, string? vaultPath, int? vaultVersion, DateTimeOffset queuedAt)
    {
        (_cleanup, ClientSecret, _hash, _vaultPath, _vaultVersion, _queuedAt) = (cleanup, clientSecret, hash, vaultPath, vaultVersion, queuedAt);
    }

    /// <summary>The secret, for the one response that shows it.</summary>
    public string ClientSecret { get; }

    /// <summary>Points the credential at the new secret and takes its path off the cleanup queue, in the caller's transaction.</summary>
    public async Task ApplyAsync(Credential credential, CancellationToken cancellationToken)
    {
        credential.SecretHash = _hash;
        credential.VaultPath = _vaultPath;
        credential.VaultVersion = _vaultVersion;
        if (_vaultPath is not null && !await _cleanup!.TakeWithinAsync(_vaultPath, _queuedAt, cancellationToken))
        {
            throw new VaultException("The secret written to Vault was cleaned up before it could be committed; try again.");
        }
    }

    public void Complete() => _completed = true;

    public async ValueTask DisposeAsync()
    {
        if (!_completed && _vaultPath is not null)
        {
            await _cleanup!.SettleAsync(_vaultPath, _queuedAt, CancellationToken.None);
        }
    }
}
