using System.Security.Claims;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Tokens;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// A client_credentials request gets an RFC 9068 access token for the requested scopes (else all the agent's
/// capabilities, never <c>agents:self</c>), whose audiences follow from its scopes and the requested resources
/// (<see cref="AccessTokenAudiences"/>), bound to its credential and never outliving it.
/// </summary>
public sealed class IssueAgentAccessToken(IOptions<IssuerOptions> issuer, IOptions<AccessTokenOptions> accessTokens, TimeProvider time)
    : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
            .UseSingletonHandler<IssueAgentAccessToken>()
            .SetOrder(OpenIddictServerHandlers.Exchange.AttachPrincipal.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (!context.Request.IsClientCredentialsGrantType())
        {
            return ValueTask.CompletedTask;
        }
        var caller = context.Transaction.GetCaller();
        var credential = caller.Credential ?? throw new InvalidOperationException("A token request is authenticated by a credential.");

        var requestedScopes = context.Request.GetScopes();
        // agents:self is granted only when asked for, even to an agent that somehow holds it as a capability.
        var scopes = requestedScopes.IsEmpty
            ? credential.Capabilities.Where(capability => capability != AdminCapabilities.AgentsSelf).ToList()
            : [.. requestedScopes];
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, caller.AgentId.ToString())
            .SetClaim(AgentIdpClaims.CredentialId, credential.CredentialId.ToString())
            .SetClaim(AgentIdpClaims.SecretVersion, credential.SecretVersion)
            .SetClaim(AgentIdpClaims.SecurityStamp, credential.SecurityStamp)
            .SetScopes(scopes)
            .SetResources(AccessTokenAudiences.For(scopes, context.Request.GetResources(), issuer.Value))
            .SetDestinations(static _ => [Destinations.AccessToken]);

        var principal = new ClaimsPrincipal(identity);
        var lifetime = accessTokens.Value.Lifetime;
        if (credential.CredentialExpiresAt - time.GetUtcNow() is { } remaining && remaining < lifetime)
        {
            principal.SetAccessTokenLifetime(remaining > TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1));
        }
        context.SignIn(principal);
        return ValueTask.CompletedTask;
    }
}
