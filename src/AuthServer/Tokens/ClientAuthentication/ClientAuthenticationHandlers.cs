using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>Who is calling the token, introspection or revocation endpoint: the handlers, in pipeline order.</summary>
public static class ClientAuthenticationHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        AuthenticateAgentClient.Descriptor,    // client id and secret checked against the agent's credential; one answer for every failure
        AuthenticateBearerCaller.Descriptor,   // at introspection, a resource server's own bearer token instead
        RequireAuthenticatedCaller.Descriptor, // no anonymous calls; introspection needs tokens:read
    ];
}
