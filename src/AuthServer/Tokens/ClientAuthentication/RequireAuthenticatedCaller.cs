using AgentIdp.Core.Agents;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// No anonymous calls: every call to the token, introspection and revocation endpoints must have been
/// authenticated by now, and only holders of <c>tokens:read</c> may introspect. This runs before the
/// token under introspection or revocation is looked at, so an unauthorized caller learns nothing of it.
/// </summary>
public sealed class RequireAuthenticatedCaller : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseSingletonHandler<RequireAuthenticatedCaller>()
            .SetOrder(AuthenticateBearerCaller.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.EndpointType is not (OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.Introspection
            or OpenIddictServerEndpointType.Revocation))
        {
            return ValueTask.CompletedTask;
        }
        var caller = context.Transaction.FindCaller();
        if (caller is null)
        {
            context.Reject(Errors.InvalidClient, "Client authentication is required: use client_secret_basic or client_secret_post.");
        }
        else if (context.EndpointType == OpenIddictServerEndpointType.Introspection && !caller.Holds(AdminCapabilities.TokensRead))
        {
            context.Reject(Errors.InsufficientScope, $"Introspecting tokens requires the '{AdminCapabilities.TokensRead}' capability.");
        }
        return ValueTask.CompletedTask;
    }
}
