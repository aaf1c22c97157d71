using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Vault;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentIdp.Core.Credentials;

/// <summary>A credential together with the one copy of its secret that ever leaves AgentIdP.</summary>
public sealed record IssuedCredential(Credential Credential, string ClientSecret);

/// <summary>
/// Makes a credential's secret and stores it where it lives: a bcrypt hash on the row, or a Vault KV v2
/// version written behind a cleanup entry (<see cref="VaultCleanupQueue"/>), so that no failure leaves a
/// caller holding a secret that cannot authenticate, or a secret in Vault that no credential names for
/// longer than a cleanup pass. The caller holds the agent's row lock (<see cref="CredentialLifecycle"/>).
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
