using System.Text.Json;
using AgentAdminApi.Agents;
using AgentAdminApi.Audit;
using AgentAdminApi.Errors;
using AgentAdminApi.Paging;
using AgentAdminApi.RateLimiting;
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
        var credentials = routes.MapGroup("/api/v1/agents/{agentId}/credentials").WithTags("Credentials")
            .RequireRateLimiting(PerCallerRateLimit.Policy).RequireCanonicalIds();
        credentials.MapPost("/", GenerateAsync).RequireAuthorization(Capabilities.AgentsWriteOrSelf).Audited(AuditActions.CredentialGenerated).CarriesSecret()
            .Accepts<GenerateCredentialRequest>("application/json").WithSummary("Generate a credential; its secret is in this response only");
        credentials.MapGet("/", ListAsync).RequireAuthorization(Capabilities.AgentsReadOrSelf).WithSummary("List an agent's credentials, newest first");
        credentials.MapPost("/{credentialId}/rotate", RotateAsync).RequireAuthorization(Capabilities.AgentsWriteOrSelf)
            .Audited(AuditActions.CredentialRotated).CarriesSecret().WithSummary("Replace a credential's secret; the previous one stops working at once");
        credentials.MapDelete("/{credentialId}", RevokeAsync).RequireAuthorization(Capabilities.AgentsWriteOrSelf)
            .Audited(AuditActions.CredentialRevoked).WithSummary("Revoke a credential");
        return routes;
    }

    private static async Task<Results<Created<CredentialWithSecretResponse>, ProblemHttpResult>> GenerateAsync(
        Guid agentId, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] JsonElement? body,
        CredentialLifecycle lifecycle, TimeProvider time, CancellationToken cancellationToken)
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

        var change = await lifecycle.GenerateAsync(agentId, expiresAt, cancellationToken);
        return change.Result is { } issued
            ? TypedResults.Created((string?)null, CredentialWithSecretResponse.From(issued.Credential, issued.ClientSecret, now))
            : ApiProblems.Refused(change.Refusal!.Value, agentId);
    }

    /// <summary>A response that shows a secret is never stored by a cache (RFC 9111 §5.2.2.5), like a token response.</summary>
    private static RouteHandlerBuilder CarriesSecret(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            context.HttpContext.Response.Headers.Pragma = "no-cache";
            return await next(context);
        });

    public sealed record CredentialListQuery(string? Limit, string? Cursor);

    private static readonly Keyset<Credential> NewestFirst = new(
        credentials => credentials.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id),
        after => c => EF.Functions.LessThan(ValueTuple.Create(c.CreatedAt, c.Id), ValueTuple.Create(after.At, after.Id)),
        c => new KeysetPosition(c.CreatedAt, c.Id));

    private static async Task<Results<Ok<Page<CredentialResponse>>, ProblemHttpResult>> ListAsync(
        Guid agentId, [AsParameters] CredentialListQuery query, AgentIdpDbContext db, PageCursors cursors, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = cursors.Read(query.Limit, query.Cursor, JsonSerializer.Serialize(new { list = "credentials", agentId }), errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (!await db.Agents.AnyAsync(a => a.Id == agentId, cancellationToken))
        {
            return ApiProblems.AgentNotFound(agentId);
        }
        var now = time.GetUtcNow();
        var credentials = db.Credentials.AsNoTracking().Where(c => c.AgentId == agentId);
        return TypedResults.Ok(await cursors.ToPageAsync(credentials, NewestFirst, page, c => CredentialResponse.From(c, now), cancellationToken));
    }

    private static async Task<Results<Ok<CredentialWithSecretResponse>, ProblemHttpResult>> RotateAsync(
        Guid agentId, Guid credentialId, CredentialLifecycle lifecycle, TimeProvider time, CancellationToken cancellationToken)
    {
        var change = await lifecycle.RotateAsync(agentId, credentialId, cancellationToken);
        return change.Result is { } issued
            ? TypedResults.Ok(CredentialWithSecretResponse.From(issued.Credential, issued.ClientSecret, time.GetUtcNow()))
            : ApiProblems.Refused(change.Refusal!.Value, agentId, credentialId);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid agentId, Guid credentialId, CredentialLifecycle lifecycle, CancellationToken cancellationToken)
    {
        var change = await lifecycle.RevokeAsync(agentId, credentialId, cancellationToken);
        return change.Result is not null ? TypedResults.NoContent() : ApiProblems.Refused(change.Refusal!.Value, agentId, credentialId);
    }
}
