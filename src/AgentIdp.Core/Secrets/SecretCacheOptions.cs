using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Secrets;

public sealed class SecretCacheOptions
{
    /// <summary>How long a secret that passed a full check is accepted from the cache; 0 turns the cache off.</summary>
    [ConfigurationKeyName("SECRET_CACHE_TTL")]
    [Range(0, 86_400, ErrorMessage = "SECRET_CACHE_TTL must be a number of seconds from 0 (cache off) to 86400 (default 600).")]
    public int TtlSeconds { get; set; } = 600;

    /// <summary>At most this many credentials are cached (a few hundred bytes each); beyond it a new one stays cold.</summary>
    [ConfigurationKeyName("SECRET_CACHE_MAX_ENTRIES")]
    [Range(1, 10_000_000, ErrorMessage = "SECRET_CACHE_MAX_ENTRIES must be from 1 to 10000000 (default 250000).")]
    public int MaxEntries { get; set; } = 250_000;

    public TimeSpan Ttl => TimeSpan.FromSeconds(TtlSeconds);
}
