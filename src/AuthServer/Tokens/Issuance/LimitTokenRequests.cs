using AgentIdp.Core.Telemetry;
using AuthServer.Tokens.ClientAuthentication;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// Token requests per agent per minute on this replica (TOKEN_RATE_LIMIT_PER_MINUTE), counted once the
/// agent is authenticated: requests that merely claim an agent's id, with a wrong secret, cannot use up
/// its allowance. Beyond it: 429 with <c>Retry-After</c> (<see cref="AnswerRetryLater"/>).
/// </summary>
public sealed class LimitTokenRequests(TokenRateLimiter limiter, AgentIdpMetrics metrics) : IOpenIddictServerHandler<ProcessAuthenticationContext>
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
        metrics.RateLimited(AgentIdpMetrics.RateLimiters.Token);
        context.Transaction.SetRetryAfter(retryAfter);
        context.Reject(Error, "Too many token requests for this client; retry after the number of seconds in Retry-After.");
        return ValueTask.CompletedTask;
    }
}
