using AgentIdp.Core.Configuration;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// Each <c>resource</c> is an absolute URI without a fragment (RFC 8707 §2), or one of this server's own
/// audiences, AUDIENCE and ADMIN_AUDIENCE, which need not be URIs (the defaults are not): so
/// <c>resource=agentidp-admin</c> asks for a token the admin API accepts. It stands where OpenIddict's check,
/// which knows URIs only, would.
/// </summary>
public sealed class ValidateRequestedResources(IOptions<IssuerOptions> issuer) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public const string Invalid = "Each 'resource' must be an absolute URI without a fragment (RFC 8707), or one of this server's audiences.";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<ValidateRequestedResources>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateResourceParameter.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (!context.Request.GetResources().All(IsValid))
        {
            context.Reject(Errors.InvalidRequest, Invalid);
        }
        return ValueTask.CompletedTask;
    }

    private bool IsValid(string resource) =>
        resource == issuer.Value.Audience || resource == issuer.Value.AdminAudience ||
        // The scheme must be written out: .NET reads "/etc/x" or "\\host\share" as an absolute file URI.
        (Uri.TryCreate(resource, UriKind.Absolute, out var uri) && resource.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase) &&
         !resource.Contains('#', StringComparison.Ordinal));
}
