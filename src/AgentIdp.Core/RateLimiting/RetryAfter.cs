using System.Globalization;

namespace AgentIdp.Core.RateLimiting;

public static class RetryAfter
{
    /// <summary>A <c>Retry-After</c> value (RFC 9110 §10.2.3): whole seconds, rounded up, at least one.</summary>
    public static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
