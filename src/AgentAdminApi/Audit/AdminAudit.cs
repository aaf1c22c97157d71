using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentAdminApi.Security;

namespace AgentAdminApi.Audit;

/// <summary>Names the audited action an endpoint performs, so that a refusal of it is recorded as well.</summary>
public sealed record AuditedAction(string Action);

/// <summary>
/// The admin API's audit events, with the caller (its client id) as actor and its IP. A change and the
/// event that records it are saved in the same transaction: both or neither. A refused action is saved
/// on its own, whatever happens to the request's unit of work.
/// </summary>
public sealed class AdminAudit(IHttpContextAccessor http, AgentIdpDbContext db, IServiceScopeFactory scopes, TimeProvider time)
    : DatabaseAuditLog(db, scopes)
{
    protected override AuditEvent Create(string action, AuditOutcome outcome, Guid? agentId, object details)
    {
        var context = http.HttpContext;
        return AuditEvent.Create(action, outcome, time.GetUtcNow(), agentId,
            actor: context?.User.AgentId()?.ToString(),
            ip: context?.Connection.RemoteIpAddress,
            details: JsonSerializer.Serialize(details, AuditEvent.DetailsJson));
    }
}

public static class AuditedEndpoints
{
    /// <summary>The admin API's audit log, for the endpoints and the credential lifecycle alike.</summary>
    public static IServiceCollection AddAdminAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHttpContextAccessor();
        return services.AddCredentialLifecycle<AdminAudit>(configuration);
    }

    public static RouteHandlerBuilder Audited(this RouteHandlerBuilder builder, string action) =>
        builder.WithMetadata(new AuditedAction(action));
}
