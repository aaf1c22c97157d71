using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Errors;
using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Credentials;

/// <summary>Why a change to an agent's credentials did not happen.</summary>
public enum CredentialRefusal { AgentNotFound, AgentDecommissioned, CredentialNotFound, CredentialRevoked, CredentialExpired, CredentialLimitReached }

/// <summary>What a lifecycle step produced, or why it was refused.</summary>
public readonly record struct CredentialChange<T>(T? Result, CredentialRefusal? Refusal) where T : class
{
    public static implicit operator CredentialChange<T>(T result) => new(result, null);

    public static implicit operator CredentialChange<T>(CredentialRefusal refusal) => new(null, refusal);
}

/// <summary>
/// Every change to an agent's credentials, each in one transaction under the agent's row lock with its
/// audit events. A new secret is shown only once the credential naming it has committed, and a revoked
/// secret is destroyed only once its revocation has (the write order of <see cref="CredentialSecrets"/>).
/// </summary>
public sealed class CredentialLifecycle(
    AgentIdpDbContext db, CredentialSecrets secrets, IAuditLog audit, IOptions<CredentialLimitOptions> limits, TimeProvider time)
{
    private const string RevokedWithAgent = "agent decommissioned";

    public async Task<CredentialChange<IssuedCredential>> GenerateAsync(Guid agentId, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var agent = await db.Agents.LockAsync(agentId, cancellationToken);
        if (agent is null)
        {
            return CredentialRefusal.AgentNotFound;
        }
        if (agent.Status == AgentStatus.Decommissioned)
        {
            await audit.RecordFailureAsync(AuditActions.CredentialGenerated, agentId, new { reason = ErrorCodes.AgentAlreadyDecommissioned }, cancellationToken);
            return CredentialRefusal.AgentDecommissioned;
        }
        var now = time.GetUtcNow();
        var limit = limits.Value.MaxActivePerAgent;
        if (await db.Credentials.CountAsync(c => c.AgentId == agentId && c.Status == CredentialStatus.Active && (c.ExpiresAt == null || c.ExpiresAt > now),
                cancellationToken) >= limit)
        {
            await audit.RecordFailureAsync(AuditActions.CredentialGenerated, agentId, new { reason = ErrorCodes.CredentialLimitReached, limit }, cancellationToken);
            return CredentialRefusal.CredentialLimitReached;
        }
        var credential = new Credential { Id = Guid.NewGuid(), AgentId = agentId, CreatedAt = now, ExpiresAt = expiresAt };
        db.Credentials.Add(credential);
        var secret = await CommitWithSecretAsync(transaction, credential, () => secrets.WriteNewAsync(agentId, credential.Id, cancellationToken),
            () => audit.Record(AuditActions.CredentialGenerated, agentId, new { credentialId = credential.Id, expiresAt, storage = credential.Storage }),
            cancellationToken);
        return new IssuedCredential(credential, secret);
    }

    /// <summary>A new secret for an active, unexpired credential; the previous one stops working once this commits.</summary>
    public async Task<CredentialChange<IssuedCredential>> RotateAsync(Guid agentId, Guid credentialId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (credential, refusal) = await FindActiveAsync(AuditActions.CredentialRotated, agentId, credentialId, decommissionedAgentsToo: false, cancellationToken);
        if (credential is null)
        {
            return refusal!.Value;
        }
        var now = time.GetUtcNow();
        if (credential.ExpiresAt <= now)
        {
            return CredentialRefusal.CredentialExpired;
        }
        var movedToVault = credential.VaultPath is null && secrets.VaultMode;
        var secret = await CommitWithSecretAsync(transaction, credential, () => secrets.WriteRotationAsync(credential, cancellationToken), () =>
        {
            credential.SecretVersion++;
            credential.RotatedAt = now;
            audit.Record(AuditActions.CredentialRotated, agentId, new
            {
                credentialId,
                secretVersion = credential.SecretVersion,
                storage = credential.Storage,
                movedToVault,
            });
        }, cancellationToken);
        return new IssuedCredential(credential, secret);
    }

    /// <summary>Revokes an active credential, of a decommissioned agent too; its Vault secret is destroyed once that commits.</summary>
    public async Task<CredentialChange<Credential>> RevokeAsync(Guid agentId, Guid credentialId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (credential, refusal) = await FindActiveAsync(AuditActions.CredentialRevoked, agentId, credentialId, decommissionedAgentsToo: true, cancellationToken);
        if (credential is null)
        {
            return refusal!.Value;
        }
        await RevokeWithinAsync(credential, time.GetUtcNow(), reason: null, cancellationToken);
        await CommitThenDestroyAsync(transaction, [credential], cancellationToken);
        return credential;
    }

    /// <summary>Decommissions an agent for good, revoking every active credential with it.</summary>
    public async Task<CredentialChange<Agent>> DecommissionAsync(Guid agentId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var agent = await db.Agents.LockAsync(agentId, cancellationToken);
        if (agent is null)
        {
            return CredentialRefusal.AgentNotFound;
        }
        if (agent.Status == AgentStatus.Decommissioned)
        {
            await audit.RecordFailureAsync(AuditActions.AgentDecommissioned, agentId, new { reason = ErrorCodes.AgentAlreadyDecommissioned }, cancellationToken);
            return CredentialRefusal.AgentDecommissioned;
        }
        var now = time.GetUtcNow();
        agent.Status = AgentStatus.Decommissioned;
        agent.UpdatedAt = now;
        var credentials = await db.Credentials.Where(c => c.AgentId == agentId && c.Status == CredentialStatus.Active).ToListAsync(cancellationToken);
        foreach (var credential in credentials)
        {
            await RevokeWithinAsync(credential, now, RevokedWithAgent, cancellationToken);
        }
        audit.Record(AuditActions.AgentDecommissioned, agentId, new { revokedCredentials = credentials.Select(c => c.Id) });
        await CommitThenDestroyAsync(transaction, credentials, cancellationToken);
        return agent;
    }

    /// <summary>
    /// The write order: the secret is stored first (in Vault, behind a cleanup entry), then the credential
    /// is pointed at it, <paramref name="complete"/> finishes the change and records it, and all of it
    /// commits in one transaction; only then does the secret leave. Whatever fails before that settles what
    /// was written, so no caller ever holds a secret that cannot authenticate.
    /// </summary>
    private async Task<string> CommitWithSecretAsync(
        IDbContextTransaction transaction, Credential credential, Func<Task<SecretWrite>> write, Action complete, CancellationToken cancellationToken)
    {
        await using var secret = await write();
        await secret.ApplyAsync(credential, cancellationToken);
        complete();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        secret.Complete();
        return secret.ClientSecret;
    }

    private async Task RevokeWithinAsync(Credential credential, DateTimeOffset now, string? reason, CancellationToken cancellationToken)
    {
        credential.Status = CredentialStatus.Revoked;
        credential.RevokedAt = now;
        await secrets.QueueDestructionAsync(credential, cancellationToken);
        audit.Record(AuditActions.CredentialRevoked, credential.AgentId, reason is null
            ? new { credentialId = credential.Id, storage = credential.Storage }
            : new { credentialId = credential.Id, storage = credential.Storage, reason });
    }

    /// <summary>Revoked first, destroyed second: a revocation holds even while Vault is away, and the cleanup pass finishes the job.</summary>
    private async Task CommitThenDestroyAsync(IDbContextTransaction transaction, IReadOnlyList<Credential> revoked, CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var credential in revoked)
        {
            await secrets.DestroyQueuedAsync(credential, cancellationToken);
        }
    }

    /// <summary>
    /// Locks the agent, then finds its active credential; otherwise why not (a conflict is recorded as a
    /// failed <paramref name="action"/>). A decommissioned agent's credentials are all revoked already.
    /// </summary>
    private async Task<(Credential? Credential, CredentialRefusal? Refusal)> FindActiveAsync(
        string action, Guid agentId, Guid credentialId, bool decommissionedAgentsToo, CancellationToken cancellationToken)
    {
        var agent = await db.Agents.LockAsync(agentId, cancellationToken);
        if (agent is null)
        {
            return (null, CredentialRefusal.AgentNotFound);
        }
        var credential = await db.Credentials.SingleOrDefaultAsync(c => c.Id == credentialId && c.AgentId == agentId, cancellationToken);
        if (credential is null)
        {
            return (null, CredentialRefusal.CredentialNotFound);
        }
        if (credential.Status == CredentialStatus.Revoked)
        {
            await audit.RecordFailureAsync(action, agentId, new { credentialId, reason = ErrorCodes.CredentialAlreadyRevoked }, cancellationToken);
            return (null, CredentialRefusal.CredentialRevoked);
        }
        if (agent.Status == AgentStatus.Decommissioned && !decommissionedAgentsToo)
        {
            await audit.RecordFailureAsync(action, agentId, new { credentialId, reason = ErrorCodes.AgentAlreadyDecommissioned }, cancellationToken);
            return (null, CredentialRefusal.AgentDecommissioned);
        }
        return (credential, null);
    }
}

public static class CredentialLifecycleServiceCollectionExtensions
{
    /// <summary>The credential lifecycle, recording its events in <typeparamref name="TAuditLog"/> (the host's audit log).</summary>
    public static IServiceCollection AddCredentialLifecycle<TAuditLog>(this IServiceCollection services, IConfiguration configuration)
        where TAuditLog : class, IAuditLog
    {
        services.AddOptions<CredentialLimitOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.TryAddScoped<TAuditLog>();
        services.TryAddScoped<IAuditLog>(provider => provider.GetRequiredService<TAuditLog>());
        services.TryAddScoped<CredentialLifecycle>();
        return services;
    }
}
