namespace AgentIdp.Core.Errors;

/// <summary>The stable <c>code</c> of every error AgentIdP answers with, defined once: the admin API's
/// <c>code</c> member, and the AuthServer's <c>error_description</c> prefix for a Vault outage.</summary>
public static class ErrorCodes
{
    public const string ValidationError = "VALIDATION_ERROR";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Forbidden = "FORBIDDEN";
    public const string AgentNotFound = "AGENT_NOT_FOUND";
    public const string CredentialNotFound = "CREDENTIAL_NOT_FOUND";
    public const string AuditEventNotFound = "AUDIT_EVENT_NOT_FOUND";
    public const string AgentAlreadyExists = "AGENT_ALREADY_EXISTS";
    public const string AgentAlreadyDecommissioned = "AGENT_ALREADY_DECOMMISSIONED";
    public const string CredentialAlreadyRevoked = "CREDENTIAL_ALREADY_REVOKED";
    public const string CredentialLimitReached = "CREDENTIAL_LIMIT_REACHED";
    public const string RateLimitExceeded = "RATE_LIMIT_EXCEEDED";
    public const string VaultWriteError = "VAULT_WRITE_ERROR";
    public const string VaultReadError = "VAULT_READ_ERROR";
    public const string InternalError = "INTERNAL_ERROR";
}
