namespace AgentIdp.Core.Lockout;

/// <summary>
/// One client id's or one source's failed authentications in its current window, and its lock if it has one.
/// Rows are short-lived and rebuilt by the next failures: the table is UNLOGGED, and a crash of PostgreSQL
/// empties it, which only forgives the failures counted so far.
/// </summary>
public sealed class AuthLockout
{
    /// <summary><c>client</c> or <c>source</c>.</summary>
    public required string Scope { get; set; }
    /// <summary>The client id, or the source address (an IPv6 source as its /64).</summary>
    public required string Key { get; set; }
    public int Failures { get; set; }
    public DateTimeOffset WindowStartedAt { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }

    public const string ClientScope = "client";
    public const string SourceScope = "source";
    public const int MaxKeyLength = 64;
}
