using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// Access tokens carry no OpenIddict-internal claim. OpenIddict keeps <c>oi_prst</c> (the presenters) in
/// them, which no resource server reads and every API call would carry; <c>client_id</c> says the same.
/// </summary>
public sealed class OmitInternalClaims : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<OmitInternalClaims>()
            .SetOrder(OpenIddictServerHandlers.PrepareAccessTokenPrincipal.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        context.AccessTokenPrincipal?.RemoveClaims(Claims.Private.Presenter);
        return ValueTask.CompletedTask;
    }
}
