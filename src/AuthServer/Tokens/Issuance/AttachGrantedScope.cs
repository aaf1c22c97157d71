using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// Every token response names the granted scopes. RFC 6749 §5.1 lets a server leave <c>scope</c> out
/// when it equals the request, as OpenIddict does; AgentIdP's contract always includes it.
/// </summary>
public sealed class AttachGrantedScope : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<AttachGrantedScope>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.IncludeAccessToken && string.IsNullOrEmpty(context.Response.Scope) && context.AccessTokenPrincipal is { } principal)
        {
            context.Response.Scope = string.Join(' ', principal.GetScopes());
        }
        return ValueTask.CompletedTask;
    }
}
