using System.Text.Json;
using System.Text.Json.Nodes;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace AgentIdp.Cli;

/// <summary>
/// The audit events of an operator command: no actor or address, and <c>via</c> in the details naming the
/// command. As in the admin API, a change's events commit with it; a refusal is saved on its own.
/// </summary>
internal sealed class CommandAudit(AgentIdpDbContext db, IServiceScopeFactory scopes, TimeProvider time) : DatabaseAuditLog(db, scopes)
{
    public const string Via = "agentidp bootstrap-admin";

    protected override AuditEvent Create(string action, AuditOutcome outcome, Guid? agentId, object details)
    {
        var withVia = new JsonObject { ["via"] = Via };
        foreach (var (name, value) in JsonSerializer.SerializeToNode(details, AuditEvent.DetailsJson)!.AsObject())
        {
            withVia[name] = value?.DeepClone();
        }
        return AuditEvent.Create(action, outcome, time.GetUtcNow(), agentId, details: withVia.ToJsonString());
    }
}
