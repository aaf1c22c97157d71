namespace AgentIdp.Core.Tokens;

/// <summary>The registered JWT claims (RFC 7519 §4.1, RFC 8693 §4.2) that AgentIdP reads from access tokens.</summary>
public static class RegisteredClaims
{
    public const string Subject = "sub";
    public const string TokenId = "jti";
    public const string Scope = "scope";
}

/// <summary>The private claims AgentIdP adds to its access tokens (RFC 9068 §2.2.3 allows them).</summary>
public static class AgentIdpClaims
{
    /// <summary>The id of the credential that authenticated the token request.</summary>
    public const string CredentialId = "credential_id";

    /// <summary>The credential's secret version at issuance: a rotation makes every older token invalid.</summary>
    public const string SecretVersion = "secret_version";

    /// <summary>The agent's security stamp at issuance: suspending the agent or changing its capabilities makes every older token invalid.</summary>
    public const string SecurityStamp = "security_stamp";
}
