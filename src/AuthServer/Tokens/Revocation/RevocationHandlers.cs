using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.Revocation;

/// <summary>The revocation endpoint's handlers, in pipeline order, and the OpenIddict handler they replace.</summary>
public static class RevocationHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        AuthorizeTokenRevocation.Descriptor,      // an agent revokes its own tokens; agents:write revokes any
        RevokeAccessToken.Descriptor,             // the jti recorded in revoked_tokens until the token would expire
        AnswerRevocationWithEmptyBody.Descriptor, // 200 with an empty body
    ];

    /// <summary>OpenIddict's audience-or-presenter rule, replaced by <see cref="AuthorizeTokenRevocation"/>.</summary>
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> RemovedHandlers { get; } =
    [
        OpenIddictServerHandlers.Revocation.ValidateAuthorizedParty.Descriptor,
    ];
}
