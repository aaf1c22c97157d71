using AgentIdp.Core.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace AgentIdp.Core.Audit;

/// <summary>
/// An <see cref="IAuditLog"/> in the <c>audit_events</c> table: a success joins the caller's unit of work
/// (its DbContext), a refusal is saved at once through a DbContext of its own. Each host says who acted.
/// </summary>
public abstract class DatabaseAuditLog(AgentIdpDbContext db, IServiceScopeFactory scopes) : IAuditLog
{
    public void Record(string action, Guid? agentId, object details) =>
        db.AuditEvents.Add(Create(action, AuditOutcome.Success, agentId, details));

    public async Task RecordFailureAsync(string action, Guid? agentId, object details, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var own = scope.ServiceProvider.GetRequiredService<AgentIdpDbContext>();
        own.AuditEvents.Add(Create(action, AuditOutcome.Failure, agentId, details));
        await own.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The event, with the actor and details as this host records them.</summary>
    protected abstract AuditEvent Create(string action, AuditOutcome outcome, Guid? agentId, object details);
}
