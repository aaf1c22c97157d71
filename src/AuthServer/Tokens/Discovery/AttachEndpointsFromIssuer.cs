using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Discovery;

/// <summary>
/// The discovery document's URLs come from ISSUER, never from the request's Host header, which any
/// caller can set: OpenIddict fills in only the endpoints left empty here.
/// </summary>
public sealed class AttachEndpointsFromIssuer : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AttachEndpointsFromIssuer>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachEndpoints.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        var issuer = context.Options.Issuer ?? throw new InvalidOperationException("The issuer is configured at start.");
        var root = issuer.AbsoluteUri.EndsWith('/') ? issuer : new Uri(issuer.AbsoluteUri + "/");
        Uri At(List<Uri> endpoints) => new(root, endpoints[0].OriginalString.TrimStart('/'));
        context.TokenEndpoint = At(context.Options.TokenEndpointUris);
        context.IntrospectionEndpoint = At(context.Options.IntrospectionEndpointUris);
        context.RevocationEndpoint = At(context.Options.RevocationEndpointUris);
        context.JsonWebKeySetEndpoint = At(context.Options.JsonWebKeySetEndpointUris);
        return ValueTask.CompletedTask;
    }
}
