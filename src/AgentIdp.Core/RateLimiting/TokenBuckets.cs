using System.Threading.RateLimiting;

namespace AgentIdp.Core.RateLimiting;

public static class TokenBuckets
{
    /// <summary>
    /// A bucket that allows a burst of <paramref name="perMinute"/> requests and refills at that rate, in
    /// whole tokens: one a second from 60 a minute up, otherwise one every 60/n seconds. No queueing.
    /// </summary>
    public static TokenBucketRateLimiterOptions PerMinute(int perMinute) => new()
    {
        TokenLimit = perMinute,
        TokensPerPeriod = Math.Max(1, perMinute / 60),
        ReplenishmentPeriod = TimeSpan.FromSeconds(perMinute >= 60 ? 1 : 60.0 / perMinute),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
