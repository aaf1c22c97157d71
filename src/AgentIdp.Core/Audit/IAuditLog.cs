namespace AgentIdp.Core.Audit;

/// <summary>
/// Where a change records what it did. A success joins the change's own unit of work, so it commits with
/// the change or not at all; a refusal is saved at once on its own, whatever becomes of the change.
/// </summary>
public interface IAuditLog
{
    void Record(string action, Guid? agentId, object details);

    Task RecordFailureAsync(string action, Guid? agentId, object details, CancellationToken cancellationToken);
}
