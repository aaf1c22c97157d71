using System.ComponentModel.DataAnnotations;

namespace AuthServer.Tokens;

public sealed class TokenOptions
{
    [ConfigurationKeyName("ACCESS_TOKEN_LIFETIME")]
    [Range(60, 86_400, ErrorMessage = "ACCESS_TOKEN_LIFETIME must be a number of seconds from 60 to 86400 (default 3600).")]
    public int AccessTokenLifetimeSeconds { get; set; } = 3600;

    /// <summary>Token requests one client may make per minute on one replica; 0 turns the limit off.</summary>
    [ConfigurationKeyName("TOKEN_RATE_LIMIT_PER_MINUTE")]
    [Range(0, 10_000_000, ErrorMessage = "TOKEN_RATE_LIMIT_PER_MINUTE must be from 0 (no limit) to 10000000 (default 600).")]
    public int RequestsPerMinutePerClient { get; set; } = 600;
}
