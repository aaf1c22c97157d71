namespace AgentIdp.Core.Agents;

/// <summary>The scopes of AgentIdP's own admin API: the capabilities an administrator holds, and <c>agents:self</c>.</summary>
public static class AdminCapabilities
{
    public const string AgentsRead = "agents:read";
    public const string AgentsWrite = "agents:write";
    public const string TokensRead = "tokens:read";
    public const string AuditRead = "audit:read";

    /// <summary>
    /// Self-service: an agent reading its own record and managing its own credentials. Every active agent may
    /// request it without holding it, so it is never a capability, and a token carries it only when requested.
    /// </summary>
    public const string AgentsSelf = "agents:self";

    /// <summary>The capabilities an administrator holds (what <c>agentidp bootstrap-admin</c> grants).</summary>
    public static readonly IReadOnlyList<string> All = [AgentsRead, AgentsWrite, TokensRead, AuditRead];

    /// <summary>Every scope of the admin API: a token carrying any of them is meant for it (ADMIN_AUDIENCE).</summary>
    public static readonly IReadOnlyList<string> ApiScopes = [.. All, AgentsSelf];

    public static bool IsApiScope(string scope) => ApiScopes.Contains(scope, StringComparer.Ordinal);
}
