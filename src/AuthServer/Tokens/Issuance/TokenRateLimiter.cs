using System.Threading.RateLimiting;
using AgentIdp.Core.RateLimiting;
using Microsoft.Extensions.Options;

namespace AuthServer.Tokens.Issuance;

/// <summary>One token bucket per agent; none when TOKEN_RATE_LIMIT_PER_MINUTE is 0.</summary>
public sealed class TokenRateLimiter(IOptions<TokenOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<Guid>? _limiter = options.Value.RequestsPerMinutePerClient switch
    {
        0 => null,
        var perMinute => PartitionedRateLimiter.Create<Guid, Guid>(agentId =>
            RateLimitPartition.GetTokenBucketLimiter(agentId, _ => TokenBuckets.PerMinute(perMinute))),
    };

    public bool TryAcquire(Guid agentId, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_limiter is null)
        {
            return true;
        }
        using var lease = _limiter.AttemptAcquire(agentId);
        if (lease.IsAcquired)
        {
            return true;
        }
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        return false;
    }

    public void Dispose() => _limiter?.Dispose();
}
