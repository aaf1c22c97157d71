using System.ComponentModel.DataAnnotations;

namespace AgentAdminApi.RateLimiting;

public sealed class PerCallerRateLimitOptions
{
    /// <summary>Requests one caller may make per minute on one replica; 0 turns the limit off.</summary>
    [ConfigurationKeyName("ADMIN_RATE_LIMIT_PER_MINUTE")]
    [Range(0, 10_000_000, ErrorMessage = "ADMIN_RATE_LIMIT_PER_MINUTE must be from 0 (no limit) to 10000000 (default 600).")]
    public int RequestsPerMinutePerCaller { get; set; } = 600;
}
