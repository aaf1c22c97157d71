namespace AgentIdp.Core.Audit;

/// <summary>Every action the audit log records, defined once.</summary>
public static class AuditActions
{
    public const string AgentCreated = "agent.created";
    public const string AgentUpdated = "agent.updated";
    public const string AgentSuspended = "agent.suspended";
    public const string AgentReactivated = "agent.reactivated";
    public const string AgentDecommissioned = "agent.decommissioned";
    public const string CredentialGenerated = "credential.generated";
    public const string CredentialRotated = "credential.rotated";
    public const string CredentialRevoked = "credential.revoked";
    public const string TokenIssued = "token.issued";
    public const string TokenRevoked = "token.revoked";
    public const string TokenIntrospected = "token.introspected";
    public const string AuthFailed = "auth.failed";
    /// <summary>A client id or a source address has just been locked out after too many failed authentications.</summary>
    public const string AuthLocked = "auth.locked";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        AgentCreated, AgentUpdated, AgentSuspended, AgentReactivated, AgentDecommissioned,
        CredentialGenerated, CredentialRotated, CredentialRevoked,
        TokenIssued, TokenRevoked, TokenIntrospected, AuthFailed, AuthLocked,
    };
}
