using System.Text.Json;
using AgentAdminApi.Agents;
using AgentAdminApi.Audit;
using AgentAdminApi.Errors;
using AgentAdminApi.Requests;
using AgentAdminApi.Security;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Errors;
using AgentIdp.Core.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Credentials;

/// <summary>
/// An agent's credentials: an administrator (agents:read / agents:write) or the agent itself manages them.
/// A secret leaves the server once, in the response that creates or rotates it.
/// </summary>
public static class CredentialsApi
{
    public static IEndpointRouteBuilder MapCredentials(this IEndpointRouteBuilder routes)
    {
        var credentials = routes.MapGroup("/api/v1/agents/{agentId}/credentials").WithTags("Credentials");
        credentials.MapPost("/", GenerateAsync).RequireAuthorization(Capabilities.AgentsWriteOrSelf).Audited(AuditActions.CredentialGenerated)
            .Accepts<GenerateCredentialRequest>("application/json").WithSummary("Generate a credential; its secret is in this response only");
        credentials.MapGet("/", ListAsync).RequireAuthorization(Capabilities.AgentsReadOrSelf).WithSummary("List an agent's credentials");
        credentials.MapPost("/{credentialId}/rotate", RotateAsync).RequireAuthorization(Capabilities.AgentsWriteOrSelf)
            .Audited(AuditActions.CredentialRotated).WithSummary("Replace a credential's secret; the previous one stops working at once");
        credentials.MapDelete("/{credentialId}", RevokeAsync).RequireAuthorization(Capabilities.AgentsWriteOrSelf)
            .Audited(AuditActions.CredentialRevoked).WithSummary("Revoke a credential");
        return routes;
    }

    private static async Task<Results<Created<CredentialWithSecretResponse>, ProblemHttpResult>> GenerateAsync(
        Guid agentId, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] JsonElement? body,
        AgentIdpDbContext db, CredentialSecrets secrets, AdminAudit audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var fields = BodyFields.Of(body, errors, emptyAllowed: true);
        var expiresAt = fields.Timestamp("expiresAt", required: false);
        fields.RejectUnknownFields();
        var now = time.GetUtcNow();
        if (expiresAt <= now)
        {
            errors.Add("expiresAt", "Must be in the future.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var agent = await db.Agents.LockAsync(agentId, cancellationToken);
        if (agent is null)
        {
            return ApiProblems.AgentNotFound(agentId);
        }
        if (agent.Status == AgentStatus.Decommissioned)
        {
            await audit.RecordFailureAsync(AuditActions.CredentialGenerated, agentId, new { reason = ErrorCodes.AgentAlreadyDecommissioned }, cancellationToken);
            return ApiProblems.AgentAlreadyDecommissioned(agentId);
        }
        var credential = new Credential { Id = Guid.NewGuid(), AgentId = agentId, CreatedAt = now, ExpiresAt = expiresAt };
        await using var secret = await secrets.WriteNewAsync(agentId, credential.Id, cancellationToken);
        await secret.ApplyAsync(credential, cancellationToken);
        db.Credentials.Add(credential);
        audit.Record(AuditActions.CredentialGenerated, agentId, new { credentialId = credential.Id, expiresAt, storage = credential.Storage });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        secret.Complete();
        return TypedResults.Created((string?)null, CredentialWithSecretResponse.From(credential, secret.ClientSecret, now));
    }

    private static async Task<Results<Ok<CredentialList>, ProblemHttpResult>> ListAsync(
        Guid agentId, AgentIdpDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await db.Agents.AnyAsync(a => a.Id == agentId, cancellationToken))
        {
            return ApiProblems.AgentNotFound(agentId);
        }
        var now = time.GetUtcNow();
        var credentials = await db.Credentials.AsNoTracking()
            .Where(c => c.AgentId == agentId)
            .OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new CredentialList(credentials.Select(c => CredentialResponse.From(c, now)).ToList()));
    }

    private static async Task<Results<Ok<CredentialWithSecretResponse>, ProblemHttpResult>> RotateAsync(
        Guid agentId, Guid credentialId, AgentIdpDbContext db, CredentialSecrets secrets, AdminAudit audit, TimeProvider time,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (credential, problem) = await FindForChangeAsync(db, audit, AuditActions.CredentialRotated, agentId, credentialId, cancellationToken);
        if (credential is null)
        {
            return problem!;
        }
        var now = time.GetUtcNow();
        if (credential.ExpiresAt <= now)
        {
            return ApiProblems.Validation("credentialId", "This credential has expired: generate a new credential instead of rotating it.");
        }
        await using var secret = await secrets.WriteRotationAsync(credential, cancellationToken);
        var movedToVault = credential.VaultPath is null && secrets.VaultMode;
        await secret.ApplyAsync(credential, cancellationToken);
        credential.SecretVersion++;
        credential.RotatedAt = now;
        audit.Record(AuditActions.CredentialRotated, agentId, new
        {
            credentialId, secretVersion = credential.SecretVersion, storage = credential.Storage, movedToVault,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        secret.Complete();
        return TypedResults.Ok(CredentialWithSecretResponse.From(credential, secret.ClientSecret, now));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid agentId, Guid credentialId, AgentIdpDbContext db, CredentialSecrets secrets, AdminAudit audit, TimeProvider time,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (credential, problem) = await FindForChangeAsync(db, audit, AuditActions.CredentialRevoked, agentId, credentialId, cancellationToken,
            decommissionedAgentsToo: true);
        if (credential is null)
        {
            return problem!;
        }
        credential.Status = CredentialStatus.Revoked;
        credential.RevokedAt = time.GetUtcNow();
        await secrets.QueueDestructionAsync(credential, cancellationToken);
        audit.Record(AuditActions.CredentialRevoked, agentId, new { credentialId, storage = credential.Storage });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        // Revoked first, destroyed second: the revocation holds even while Vault is away, and the cleanup pass finishes the job.
        await secrets.DestroyQueuedAsync(credential, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Locks the agent, then finds its active credential; otherwise the problem to answer (and, for a
    /// conflict, the failure recorded). A decommissioned agent's credentials are all revoked already.
    /// </summary>
    private static async Task<(Credential? Credential, ProblemHttpResult? Problem)> FindForChangeAsync(
        AgentIdpDbContext db, AdminAudit audit, string action, Guid agentId, Guid credentialId, CancellationToken cancellationToken,
        bool decommissionedAgentsToo = false)
    {
        var agent = await db.Agents.LockAsync(agentId, cancellationToken);
        if (agent is null)
        {
            return (null, ApiProblems.AgentNotFound(agentId));
        }
        var credential = await db.Credentials.SingleOrDefaultAsync(c => c.Id == credentialId && c.AgentId == agentId, cancellationToken);
        if (credential is null)
        {
            return (null, ApiProblems.CredentialNotFound(agentId, credentialId));
        }
        if (credential.Status == CredentialStatus.Revoked)
        {
            await audit.RecordFailureAsync(action, agentId, new { credentialId, reason = ErrorCodes.CredentialAlreadyRevoked }, cancellationToken);
            return (null, ApiProblems.CredentialAlreadyRevoked(credentialId));
        }
        if (agent.Status == AgentStatus.Decommissioned && !decommissionedAgentsToo)
        {
            await audit.RecordFailureAsync(action, agentId, new { credentialId, reason = ErrorCodes.AgentAlreadyDecommissioned }, cancellationToken);
            return (null, ApiProblems.AgentAlreadyDecommissioned(agentId));
        }
        return (credential, null);
    }
}
