namespace AgentIdp.Core.Tokens;

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
