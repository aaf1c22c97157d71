using System.ComponentModel.DataAnnotations;

namespace AuthServer.Tokens;

public sealed class TokenOptions
{
    /// <summary>Token requests one client may make per minute on one replica; 0 turns the limit off.</summary>
    [ConfigurationKeyName("TOKEN_RATE_LIMIT_PER_MINUTE")]
    [Range(0, 10_000_000, ErrorMessage = "TOKEN_RATE_LIMIT_PER_MINUTE must be from 0 (no limit) to 10000000 (default 600).")]
    public int RequestsPerMinutePerClient { get; set; } = 600;
}
