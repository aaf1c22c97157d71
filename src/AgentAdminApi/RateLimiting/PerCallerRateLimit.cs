using System.Threading.RateLimiting;
using AgentAdminApi.Errors;
using AgentAdminApi.Security;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.RateLimiting;
using AgentIdp.Core.Telemetry;
using Microsoft.Extensions.Options;

namespace AgentAdminApi.RateLimiting;

/// <summary>
/// Each caller (its agent id, or its address before it authenticates) gets ADMIN_RATE_LIMIT_PER_MINUTE
/// requests a minute on each replica; beyond that, 429 with <c>Retry-After</c>.
/// </summary>
public static class PerCallerRateLimit
{
    public const string Policy = "per-caller";

    public static IServiceCollection AddPerCallerRateLimit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PerCallerRateLimitOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                rejected.HttpContext.RequestServices.GetRequiredService<AgentIdpMetrics>().RateLimited(AgentIdpMetrics.RateLimiters.AdminApi);
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    rejected.HttpContext.Response.Headers.RetryAfter = RetryAfter.Seconds(retryAfter);
                }
                await ApiProblems.RateLimitExceeded().ExecuteAsync(rejected.HttpContext);
            };
            limiter.AddPolicy(Policy, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<PerCallerRateLimitOptions>>().Value.RequestsPerMinutePerCaller;
                var caller = context.User.AgentId()?.ToString() ?? context.Connection.RemoteIpAddress?.ToString() ?? "anonymous";
                return perMinute == 0
                    ? RateLimitPartition.GetNoLimiter(caller)
                    : RateLimitPartition.GetTokenBucketLimiter(caller, _ => TokenBuckets.PerMinute(perMinute));
            });
        });
        return services;
    }
}
