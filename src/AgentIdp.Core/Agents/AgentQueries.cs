using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Core.Agents;

public static class AgentQueries
{
    /// <summary>
    /// Agents whose e-mail equals <paramref name="email"/> ignoring case. Translates to
    /// <c>lower(email) = @email</c>, which the unique index <c>ux_agents_email_lower</c> answers.
    /// </summary>
    public static IQueryable<Agent> WithEmail(this IQueryable<Agent> agents, string email)
    {
        var lowered = email.ToLowerInvariant();
#pragma warning disable CA1862 // string.Equals(..., OrdinalIgnoreCase) has no SQL translation; lower() matches the index
        return agents.Where(a => a.Email.ToLower() == lowered);
#pragma warning restore CA1862
    }

    /// <summary>
    /// Loads an agent and locks its row until the transaction ends. Every change to an agent or its
    /// credentials takes this lock first, so a decommissioning and a new credential, or two rotations,
    /// cannot interleave.
    /// </summary>
    public static Task<Agent?> LockAsync(this DbSet<Agent> agents, Guid agentId, CancellationToken cancellationToken) =>
        agents.FromSql($"SELECT * FROM agents WHERE id = {agentId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
}
