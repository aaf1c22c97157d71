using System.Collections.Immutable;
using OpenIddict.Server;

namespace AuthServer.Tokens.Discovery;

/// <summary>The discovery document's handlers.</summary>
public static class DiscoveryHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> DefaultHandlers { get; } =
    [
        AttachEndpointsFromIssuer.Descriptor, // every URL from ISSUER, none from the Host header
    ];
}
