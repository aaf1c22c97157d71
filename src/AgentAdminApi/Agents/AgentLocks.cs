using AgentIdp.Core.Agents;
using AgentIdp.Core.Errors;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AgentAdminApi.Agents;

public static class AgentLocks
{
    /// <summary>
    /// Loads an agent and locks its row until the transaction ends. Every change to an agent or its
    /// credentials takes this lock first, so a decommissioning and a new credential, or two rotations,
    /// cannot interleave.
    /// </summary>
    public static Task<Agent?> LockAsync(this DbSet<Agent> agents, Guid agentId, CancellationToken cancellationToken) =>
        agents.FromSql($"SELECT * FROM agents WHERE id = {agentId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);

    public static bool IsUniqueViolation(this DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
