using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Tokens;

/// <summary>How long an access token lives: the AuthServer issues tokens for it, and a retired signing key stays published for it.</summary>
public sealed class AccessTokenOptions
{
    [ConfigurationKeyName("ACCESS_TOKEN_LIFETIME")]
    [Range(60, 86_400, ErrorMessage = "ACCESS_TOKEN_LIFETIME must be a number of seconds from 60 to 86400 (default 3600).")]
    public int LifetimeSeconds { get; set; } = 3600;

    public TimeSpan Lifetime => TimeSpan.FromSeconds(LifetimeSeconds);
}
