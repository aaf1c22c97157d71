using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens;

/// <summary>The handlers that serve the token, introspection and revocation endpoints alike.</summary>
public static class SharedHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        RejectInactiveTokens.Descriptor,
        .. AnswerRetryLater.Descriptors,
    ];
}
