using System.Text.Json;
using AgentAdminApi.Errors;
using AgentAdminApi.Paging;
using AgentAdminApi.RateLimiting;
using AgentAdminApi.Requests;
using AgentAdminApi.Security;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Audit;

/// <param name="Sequence">The event's place in the audit chain, as <c>agentidp audit verify</c> names it.</param>
/// <param name="Hash">Its hash in the audit chain, lower-case hex.</param>
public sealed record AuditEventResponse(
    Guid EventId, DateTime OccurredAt, string Action, AuditOutcome Outcome, Guid? AgentId, string? Actor, string? Ip, JsonElement Details,
    long Sequence, string Hash)
{
    public static AuditEventResponse From(AuditEvent e)
    {
        using var details = JsonDocument.Parse(e.Details);
        return new(e.Id, ApiTime.Utc(e.OccurredAt), e.Action, e.Outcome, e.AgentId, e.Actor, e.Ip?.ToString(), details.RootElement.Clone(),
            e.Sequence, AuditChain.ToHex(e.Hash));
    }
}

/// <summary>The audit log, read-only: no route changes or deletes an event.</summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder routes)
    {
        var audit = routes.MapGroup("/api/v1/audit").WithTags("Audit").RequireAuthorization(Capabilities.AuditRead)
            .RequireRateLimiting(PerCallerRateLimit.Policy).RequireCanonicalIds();
        audit.MapGet("/", ListAsync).WithSummary("List audit events, newest first");
        audit.MapGet("/{eventId}", GetAsync).WithSummary("Get an audit event");
        return routes;
    }

    public sealed record AuditListQuery(string? AgentId, string? Action, string? Outcome, string? From, string? To, string? Limit, string? Cursor);

    private static readonly Keyset<AuditEvent> NewestFirst = new(
        events => events.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id),
        after => e => EF.Functions.LessThan(ValueTuple.Create(e.OccurredAt, e.Id), ValueTuple.Create(after.At, after.Id)),
        e => new KeysetPosition(e.OccurredAt, e.Id));

    private static async Task<Results<Ok<Page<AuditEventResponse>>, ProblemHttpResult>> ListAsync(
        [AsParameters] AuditListQuery query, AgentIdpDbContext db, PageCursors cursors, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var agentId = QueryValues.Id(query.AgentId, "agentId", errors);
        if (query.Action is not null && !AuditActions.All.Contains(query.Action))
        {
            errors.Add("action", $"Must be one of: {string.Join(", ", AuditActions.All.Order())}.");
        }
        var outcome = QueryValues.Enum<AuditOutcome>(query.Outcome, "outcome", errors);
        var from = QueryValues.Timestamp(query.From, "from", errors);
        var to = QueryValues.Timestamp(query.To, "to", errors);
        if (from >= to)
        {
            errors.Add("to", "Must be later than from.");
        }
        var page = cursors.Read(query.Limit, query.Cursor,
            JsonSerializer.Serialize(new { list = "audit", agentId, query.Action, outcome, from, to }), errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var events = db.AuditEvents.AsNoTracking();
        if (agentId is { } id)
        {
            events = events.Where(e => e.AgentId == id);
        }
        if (query.Action is { } action)
        {
            events = events.Where(e => e.Action == action);
        }
        if (outcome is { } o)
        {
            events = events.Where(e => e.Outcome == o);
        }
        if (from is { } start)
        {
            events = events.Where(e => e.OccurredAt >= start);
        }
        if (to is { } end)
        {
            events = events.Where(e => e.OccurredAt < end);
        }
        return TypedResults.Ok(await cursors.ToPageAsync(events, NewestFirst, page, AuditEventResponse.From, cancellationToken));
    }

    private static async Task<Results<Ok<AuditEventResponse>, ProblemHttpResult>> GetAsync(
        Guid eventId, AgentIdpDbContext db, CancellationToken cancellationToken) =>
        await db.AuditEvents.AsNoTracking().SingleOrDefaultAsync(e => e.Id == eventId, cancellationToken) is { } found
            ? TypedResults.Ok(AuditEventResponse.From(found))
            : ApiProblems.AuditEventNotFound(eventId);
}
