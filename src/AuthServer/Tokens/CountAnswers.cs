using AgentIdp.Core.Telemetry;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens;

/// <summary>
/// Counts every answer of the token, introspection and revocation endpoints, as Duende IdentityServer does
/// (<c>tokenservice.token_issued</c>, <c>tokenservice.introspection</c>, <c>tokenservice.revocation</c>): the
/// error of a refusal, and the caller only if it authenticated.
/// </summary>
public sealed class CountAnswers(AgentIdpMetrics metrics) :
    IOpenIddictServerHandler<ApplyTokenResponseContext>,
    IOpenIddictServerHandler<ApplyIntrospectionResponseContext>,
    IOpenIddictServerHandler<ApplyRevocationResponseContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        Describe(OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>().UseSingletonHandler<CountAnswers>()),
        Describe(OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>().UseSingletonHandler<CountAnswers>()),
        Describe(OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyRevocationResponseContext>().UseSingletonHandler<CountAnswers>()),
    ];

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        // The grant type is the caller's free text: only the one this server serves is a tag.
        var grantType = context.Request?.GrantType == GrantTypes.ClientCredentials ? GrantTypes.ClientCredentials : null;
        metrics.TokenResponse(context.Transaction.FindCaller()?.AgentId, grantType, ErrorOf(context.Response.Error));
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
    {
        metrics.Introspection(context.Transaction.FindCaller()?.AgentId, (bool?)context.Response[Claims.Active], ErrorOf(context.Response.Error));
        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ApplyRevocationResponseContext context)
    {
        metrics.Revocation(context.Transaction.FindCaller()?.AgentId, ErrorOf(context.Response.Error));
        return ValueTask.CompletedTask;
    }

    private static string? ErrorOf(string? error) => string.IsNullOrEmpty(error) ? null : error;

    private static OpenIddictServerHandlerDescriptor Describe<TContext>(OpenIddictServerHandlerDescriptor.Builder<TContext> builder)
        where TContext : BaseContext =>
        builder
            .SetOrder(int.MinValue + 100_000) // first: nothing it reads changes once the answer is being applied
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();
}
