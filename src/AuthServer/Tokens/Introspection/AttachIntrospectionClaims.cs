using AgentIdp.Core.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Introspection;

/// <summary>
/// Adds the token's scopes and AgentIdP's own claims to an active introspection response. OpenIddict
/// attaches them only for a caller that is an audience of the token; here any holder of
/// <c>tokens:read</c> may introspect any token.
/// </summary>
public sealed class AttachIntrospectionClaims : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
            .UseSingletonHandler<AttachIntrospectionClaims>()
            .SetOrder(OpenIddictServerHandlers.Introspection.AttachMetadataClaims.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        context.Scopes.UnionWith(principal.GetScopes());
        foreach (var claim in (string[])[AgentIdpClaims.CredentialId, AgentIdpClaims.SecretVersion, AgentIdpClaims.SecurityStamp])
        {
            if (principal.FindFirst(claim) is { } value)
            {
                context.Claims[claim] = claim != AgentIdpClaims.CredentialId && long.TryParse(value.Value, out var number)
                    ? new OpenIddictParameter(number)
                    : new OpenIddictParameter(value.Value);
            }
        }
        return ValueTask.CompletedTask;
    }
}
