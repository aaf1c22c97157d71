using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Lockout;

/// <summary>
/// When failed client authentications lock a client id or a source address out: this many failures within
/// the window lock it for the duration. Counted in PostgreSQL, so every replica sees the same count and lock.
/// </summary>
public sealed class LockoutOptions
{
    /// <summary>Failures for one client id that lock it; 0 turns the client lock off.</summary>
    [ConfigurationKeyName("LOCKOUT_CLIENT_MAX_FAILURES")]
    [Range(0, 1_000_000, ErrorMessage = "LOCKOUT_CLIENT_MAX_FAILURES must be from 0 (no client lock) to 1000000 (default 10).")]
    public int ClientMaxFailures { get; set; } = 10;

    /// <summary>Failures from one source address (an IPv6 source: its /64) that lock it; 0 turns the source lock off.</summary>
    [ConfigurationKeyName("LOCKOUT_SOURCE_MAX_FAILURES")]
    [Range(0, 1_000_000, ErrorMessage = "LOCKOUT_SOURCE_MAX_FAILURES must be from 0 (no source lock) to 1000000 (default 100).")]
    public int SourceMaxFailures { get; set; } = 100;

    /// <summary>Failures count together when they fall within this many seconds of the first.</summary>
    [ConfigurationKeyName("LOCKOUT_WINDOW_SECONDS")]
    [Range(1, 86_400, ErrorMessage = "LOCKOUT_WINDOW_SECONDS must be a number of seconds from 1 to 86400 (default 300).")]
    public int WindowSeconds { get; set; } = 300;

    /// <summary>How long a lock lasts; then it ends by itself and the count starts over.</summary>
    [ConfigurationKeyName("LOCKOUT_DURATION_SECONDS")]
    [Range(1, 86_400, ErrorMessage = "LOCKOUT_DURATION_SECONDS must be a number of seconds from 1 to 86400 (default 300).")]
    public int DurationSeconds { get; set; } = 300;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds);
}
