using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens;

/// <summary>The handlers that serve the token, introspection and revocation endpoints alike.</summary>
public static class SharedHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        RejectInactiveTokens.Descriptor, // a revoked token, or one whose credential or agent changed since, is refused
        .. AnswerRetryLater.Descriptors, // 429 and 503 answers get their status and Retry-After
        .. CountAnswers.Descriptors,     // each answer counted: tokenservice.token_issued, .introspection, .revocation
    ];
}
