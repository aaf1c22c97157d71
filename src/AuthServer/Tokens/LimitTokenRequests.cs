using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens;

/// <summary>
/// Token requests per agent per minute on this replica (TOKEN_RATE_LIMIT_PER_MINUTE), counted once the
/// agent is authenticated: requests that merely claim an agent's id, with a wrong secret, cannot use up
/// its allowance. Beyond it: 429 with <c>Retry-After</c> (<see cref="AnswerRateLimitedRequests"/>).
/// </summary>
public sealed class LimitTokenRequests(TokenRateLimiter limiter) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public const string Error = "rate_limit_exceeded";
    internal static readonly string RetryAfterProperty = typeof(LimitTokenRequests).FullName + ".RetryAfter";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseSingletonHandler<LimitTokenRequests>()
            .SetOrder(RequireAuthenticatedCaller.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.EndpointType != OpenIddictServerEndpointType.Token || context.Transaction.FindCaller() is not { } caller ||
            limiter.TryAcquire(caller.AgentId, out var retryAfter))
        {
            return ValueTask.CompletedTask;
        }
        context.Transaction.Properties[RetryAfterProperty] = retryAfter;
        context.Reject(Error, "Too many token requests for this client; retry after the number of seconds in Retry-After.");
        return ValueTask.CompletedTask;
    }
}

/// <summary>A rate-limited token request is answered 429 with Retry-After (OpenIddict would answer 400).</summary>
public sealed class AnswerRateLimitedRequests : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<AnswerRateLimitedRequests>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachHttpResponseCode<ApplyTokenResponseContext>.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        if (context.Response.Error == LimitTokenRequests.Error && context.Transaction.GetHttpRequest() is { } request)
        {
            request.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            var retryAfter = context.Transaction.Properties.TryGetValue(LimitTokenRequests.RetryAfterProperty, out var value) && value is TimeSpan wait ? wait : TimeSpan.FromSeconds(1);
            request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>One token bucket per agent; none when TOKEN_RATE_LIMIT_PER_MINUTE is 0.</summary>
public sealed class TokenRateLimiter(IOptions<TokenOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<Guid>? _limiter = options.Value.RequestsPerMinutePerClient switch
    {
        0 => null,
        var perMinute => PartitionedRateLimiter.Create<Guid, Guid>(agentId => RateLimitPartition.GetTokenBucketLimiter(agentId,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = Math.Max(1, perMinute / 60),
                ReplenishmentPeriod = TimeSpan.FromSeconds(perMinute >= 60 ? 1 : 60.0 / perMinute),
                QueueLimit = 0,
                AutoReplenishment = true,
            })),
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
