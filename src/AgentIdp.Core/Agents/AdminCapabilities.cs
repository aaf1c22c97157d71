namespace AgentIdp.Core.Agents;

/// <summary>The capabilities (scopes) that AgentIdP's own admin API understands.</summary>
public static class AdminCapabilities
{
    public const string AgentsRead = "agents:read";
    public const string AgentsWrite = "agents:write";
    public const string TokensRead = "tokens:read";
    public const string AuditRead = "audit:read";

    public static readonly IReadOnlyList<string> All = [AgentsRead, AgentsWrite, TokensRead, AuditRead];
}
