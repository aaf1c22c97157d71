using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// Access tokens carry <c>nbf</c> (equal to <c>iat</c>), which OpenIddict leaves out and the contract lists.
/// The <c>jti</c> OpenIddict just drew is kept for the audit event, so the token is never parsed back.
/// </summary>
public sealed class AttachNotBefore : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<AttachNotBefore>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachTokenMetadata.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenType == TokenTypeIdentifiers.AccessToken)
        {
            context.SecurityTokenDescriptor.NotBefore = context.SecurityTokenDescriptor.IssuedAt;
            if (context.SecurityTokenDescriptor.Claims?.TryGetValue(Claims.JwtId, out var tokenId) == true && tokenId is string id)
            {
                context.Transaction.SetIssuedTokenId(id);
            }
        }
        return ValueTask.CompletedTask;
    }
}
