namespace AgentIdp.Core.Tokens;

/// <summary>When an access token may be used: the same rule wherever AgentIdP checks one.</summary>
public static class TokenLifetime
{
    /// <summary>How far a replica's clock may run behind the issuer's before a fresh token's <c>nbf</c> is refused.</summary>
    public static readonly TimeSpan NotBeforeLeeway = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Current from <c>nbf</c> (less <see cref="NotBeforeLeeway"/>) until <c>exp</c>, and not a moment
    /// longer: a token whose credential expires stops working when the credential does.
    /// </summary>
    public static bool IsCurrent(DateTime? notBefore, DateTime? expires, DateTimeOffset now) =>
        expires is { } exp && now.UtcDateTime < exp.ToUniversalTime() &&
        (notBefore is not { } nbf || nbf.ToUniversalTime() <= now.UtcDateTime + NotBeforeLeeway);
}
