using AgentIdp.Core.RateLimiting;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens;

/// <summary>
/// Token requests per agent per minute on this replica (TOKEN_RATE_LIMIT_PER_MINUTE), counted once the
/// agent is authenticated: requests that merely claim an agent's id, with a wrong secret, cannot use up
/// its allowance. Beyond it: 429 with <c>Retry-After</c> (<see cref="AnswerRetryLater"/>).
/// </summary>
public sealed class LimitTokenRequests(TokenRateLimiter limiter) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public const string Error = "rate_limit_exceeded";

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
        context.Transaction.SetRetryAfter(retryAfter);
        context.Reject(Error, "Too many token requests for this client; retry after the number of seconds in Retry-After.");
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A request refused for now rather than for good gets the status that says so, with <c>Retry-After</c>:
/// 429 when its client is over its rate limit, 503 <c>temporarily_unavailable</c> when it was shed
/// (RFC 6749 §5.2 names no status for either; OpenIddict would answer 400).
/// </summary>
public sealed class AnswerRetryLater<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseRequestContext
{
    public ValueTask HandleAsync(TContext context)
    {
        var status = context.Transaction.Response?.Error switch
        {
            LimitTokenRequests.Error => StatusCodes.Status429TooManyRequests,
            Errors.TemporarilyUnavailable => StatusCodes.Status503ServiceUnavailable,
            _ => 0,
        };
        if (status != 0 && context.Transaction.GetHttpRequest() is { } request)
        {
            request.HttpContext.Response.StatusCode = status;
            request.HttpContext.Response.Headers.RetryAfter = RetryAfter.Seconds(context.Transaction.FindRetryAfter() ?? TimeSpan.FromSeconds(1));
        }
        return ValueTask.CompletedTask;
    }
}

public static class AnswerRetryLater
{
    /// <summary>At the token, introspection and revocation endpoints alike.</summary>
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
        [For<ApplyTokenResponseContext>(), For<ApplyIntrospectionResponseContext>(), For<ApplyRevocationResponseContext>()];

    private static OpenIddictServerHandlerDescriptor For<TContext>() where TContext : BaseRequestContext =>
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<AnswerRetryLater<TContext>>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachHttpResponseCode<TContext>.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();
}

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
