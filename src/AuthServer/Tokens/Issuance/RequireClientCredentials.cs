using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// A client_credentials request that carries no client id or no secret failed client authentication:
/// 401 <c>invalid_client</c>, as RFC 6749 §5.2 lists "no client authentication included", where
/// OpenIddict would answer 400 <c>invalid_request</c> for a missing parameter.
/// </summary>
public sealed class RequireClientCredentials : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<RequireClientCredentials>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateGrantType.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (context.Request.IsClientCredentialsGrantType() && string.IsNullOrEmpty(context.Request.ClientAssertion) &&
            (string.IsNullOrEmpty(context.Request.ClientId) || string.IsNullOrEmpty(context.Request.ClientSecret)))
        {
            context.Reject(Errors.InvalidClient, "Client authentication is required: use client_secret_basic or client_secret_post.");
        }
        return ValueTask.CompletedTask;
    }
}
