using System.Text.Json;
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
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Agents;

public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgents(this IEndpointRouteBuilder routes)
    {
        var agents = routes.MapGroup("/api/v1/agents").WithTags("Agents").RequireRateLimiting(PerCallerRateLimit.Policy).RequireCanonicalIds();
        agents.MapPost("/", RegisterAsync).RequireAuthorization(Capabilities.AgentsWrite).Audited(AuditActions.AgentCreated)
            .Accepts<RegisterAgentRequest>("application/json").WithSummary("Register an agent");
        agents.MapGet("/", ListAsync).RequireAuthorization(Capabilities.AgentsRead).WithSummary("List agents, newest first");
        agents.MapGet("/{agentId}", GetAsync).RequireAuthorization(Capabilities.AgentsReadOrSelf).WithSummary("Get an agent");
        agents.MapPatch("/{agentId}", UpdateAsync).RequireAuthorization(Capabilities.AgentsWrite).Audited(AuditActions.AgentUpdated)
            .Accepts<UpdateAgentRequest>("application/json").WithSummary("Change an agent's fields, suspend or reactivate it");
        agents.MapDelete("/{agentId}", DecommissionAsync).RequireAuthorization(Capabilities.AgentsWrite).Audited(AuditActions.AgentDecommissioned)
            .WithSummary("Decommission an agent for good, revoking every credential");
        return routes;
    }

    public sealed record AgentListQuery(string? Status, string? AgentType, string? Owner, string? DeploymentEnv, string? Limit, string? Cursor);

    private static readonly Keyset<Agent> NewestFirst = new(
        agents => agents.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id),
        after => a => EF.Functions.LessThan(ValueTuple.Create(a.CreatedAt, a.Id), ValueTuple.Create(after.At, after.Id)),
        a => new KeysetPosition(a.CreatedAt, a.Id));

    private static async Task<Results<Created<AgentResponse>, ProblemHttpResult>> RegisterAsync(
        JsonElement body, AgentIdpDbContext db, AdminAudit audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var fields = AgentFields.Read(BodyFields.Of(body, errors), registration: true);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var now = time.GetUtcNow();
        var agent = new Agent
        {
            Id = Guid.NewGuid(),
            Email = fields.Email!,
            AgentType = fields.AgentType!.Value,
            Version = fields.Version!,
            Capabilities = fields.Capabilities!,
            Owner = fields.Owner!,
            DeploymentEnv = fields.DeploymentEnv!.Value,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Agents.Add(agent);
        audit.Record(AuditActions.AgentCreated, agent.Id, new
        {
            agent.Email,
            agent.AgentType,
            agent.Version,
            agent.Capabilities,
            agent.Owner,
            agent.DeploymentEnv,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.IsUniqueViolation())
        {
            // The unique index on lower(email) settles concurrent registrations of one address.
            await audit.RecordFailureAsync(AuditActions.AgentCreated, null,
                new { reason = ErrorCodes.AgentAlreadyExists, agent.Email }, cancellationToken);
            return ApiProblems.AgentAlreadyExists();
        }
        return TypedResults.Created($"/api/v1/agents/{agent.Id}", AgentResponse.From(agent));
    }

    private static async Task<Results<Ok<Page<AgentResponse>>, ProblemHttpResult>> ListAsync(
        [AsParameters] AgentListQuery query, AgentIdpDbContext db, PageCursors cursors, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var status = QueryValues.Enum<AgentStatus>(query.Status, "status", errors);
        var agentType = QueryValues.Enum<AgentType>(query.AgentType, "agentType", errors);
        var owner = QueryValues.Owner(query.Owner, errors);
        var environment = QueryValues.Enum<DeploymentEnvironment>(query.DeploymentEnv, "deploymentEnv", errors);
        var page = cursors.Read(query.Limit, query.Cursor,
            JsonSerializer.Serialize(new { list = "agents", status, agentType, owner, environment }), errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var agents = db.Agents.AsNoTracking();
        if (status is { } s)
        {
            agents = agents.Where(a => a.Status == s);
        }
        if (agentType is { } t)
        {
            agents = agents.Where(a => a.AgentType == t);
        }
        if (owner is not null)
        {
            agents = agents.Where(a => a.Owner == owner);
        }
        if (environment is { } e)
        {
            agents = agents.Where(a => a.DeploymentEnv == e);
        }
        return TypedResults.Ok(await cursors.ToPageAsync(agents, NewestFirst, page, AgentResponse.From, cancellationToken));
    }

    private static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> GetAsync(
        Guid agentId, AgentIdpDbContext db, CancellationToken cancellationToken) =>
        await db.Agents.AsNoTracking().SingleOrDefaultAsync(a => a.Id == agentId, cancellationToken) is { } agent
            ? TypedResults.Ok(AgentResponse.From(agent))
            : ApiProblems.AgentNotFound(agentId);

    private static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> UpdateAsync(
        Guid agentId, JsonElement body, AgentIdpDbContext db, AdminAudit audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var fields = AgentFields.Read(BodyFields.Of(body, errors), registration: false);
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
            await audit.RecordFailureAsync(AuditActions.AgentUpdated, agentId, new { reason = ErrorCodes.AgentAlreadyDecommissioned }, cancellationToken);
            return ApiProblems.AgentAlreadyDecommissioned(agentId);
        }

        var changed = new List<string>();
        void Change<T>(string field, T? requested, T current, Action<T> set)
        {
            if (requested is not null && !EqualityComparer<T>.Default.Equals(requested, current))
            {
                set(requested);
                changed.Add(field);
            }
        }
        Change("email", fields.Email, agent.Email, value => agent.Email = value);
        Change("agentType", fields.AgentType, (AgentType?)agent.AgentType, value => agent.AgentType = value!.Value);
        Change("version", fields.Version, agent.Version, value => agent.Version = value);
        Change("owner", fields.Owner, agent.Owner, value => agent.Owner = value);
        Change("deploymentEnv", fields.DeploymentEnv, (DeploymentEnvironment?)agent.DeploymentEnv, value => agent.DeploymentEnv = value!.Value);
        if (fields.Capabilities is { } capabilities && !capabilities.SequenceEqual(agent.Capabilities))
        {
            agent.Capabilities = capabilities;
            changed.Add("capabilities");
        }
        var statusChange = fields.Status is { } status && status != agent.Status ? status : (AgentStatus?)null;
        if (changed.Count == 0 && statusChange is null)
        {
            return TypedResults.Ok(AgentResponse.From(agent)); // nothing to change, nothing to record
        }

        if (changed.Count > 0)
        {
            audit.Record(AuditActions.AgentUpdated, agentId, new { changed });
        }
        if (changed.Contains("capabilities") || statusChange == AgentStatus.Suspended)
        {
            agent.SecurityStamp++; // tokens issued before stop standing: none outlives a suspension or carries old capabilities
        }
        if (statusChange is { } newStatus)
        {
            agent.Status = newStatus;
            audit.Record(newStatus == AgentStatus.Suspended ? AuditActions.AgentSuspended : AuditActions.AgentReactivated, agentId, new { status = newStatus });
        }
        agent.UpdatedAt = time.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.IsUniqueViolation())
        {
            await transaction.RollbackAsync(cancellationToken);
            await audit.RecordFailureAsync(AuditActions.AgentUpdated, agentId, new { reason = ErrorCodes.AgentAlreadyExists, fields.Email }, cancellationToken);
            return ApiProblems.AgentAlreadyExists();
        }
        return TypedResults.Ok(AgentResponse.From(agent));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DecommissionAsync(
        Guid agentId, CredentialLifecycle lifecycle, CancellationToken cancellationToken)
    {
        var change = await lifecycle.DecommissionAsync(agentId, cancellationToken);
        return change.Result is not null ? TypedResults.NoContent() : ApiProblems.Refused(change.Refusal!.Value, agentId);
    }
}
