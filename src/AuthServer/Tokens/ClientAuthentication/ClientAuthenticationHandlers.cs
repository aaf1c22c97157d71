using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>Who is calling the token, introspection or revocation endpoint: the handlers, in pipeline order.</summary>
public static class ClientAuthenticationHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        AuthenticateAgentClient.Descriptor,
        AuthenticateBearerCaller.Descriptor,
        RequireAuthenticatedCaller.Descriptor,
    ];
}
