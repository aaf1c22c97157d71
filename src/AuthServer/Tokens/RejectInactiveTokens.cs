using AgentIdp.Core.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens;

/// <summary>
/// A well-signed, unexpired access token is still refused once it was revoked, its credential revoked or
/// rotated, or its agent suspended or decommissioned (<see cref="TokenLiveness"/>). Applies wherever the
/// server validates a token: introspection, revocation, and bearer authentication of introspection calls.
/// </summary>
public sealed class RejectInactiveTokens(TokenLiveness liveness) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseScopedHandler<RejectInactiveTokens>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateAuthorizationEntry.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.Principal is null || !context.Principal.HasTokenType(TokenTypeIdentifiers.AccessToken))
        {
            return;
        }
        var token = IssuedTokenClaims.From(context.Principal);
        if (token is null || !await liveness.IsLiveAsync(token, context.CancellationToken))
        {
            context.Reject(Errors.InvalidToken, "The token is no longer valid.");
        }
    }
}
