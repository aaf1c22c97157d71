using AgentIdp.Core.RateLimiting;
using AuthServer.Tokens.Issuance;
using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens;

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
