using AgentIdp.Core.Agents;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Tokens;
using AuthServer.Tokens.ClientAuthentication;
using AuthServer.Tokens.Discovery;
using AuthServer.Tokens.Introspection;
using AuthServer.Tokens.Issuance;
using AuthServer.Tokens.Revocation;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

public static class OAuthServer
{
    /// <summary>
    /// The OAuth 2.0 server: OpenIddict in degraded mode (no application or token tables: the agents table
    /// is the list of clients), client_credentials only, RS256 or ES256 <c>at+jwt</c> access tokens left
    /// unencrypted for resource servers, discovery at both well-known paths, JWKS, introspection and
    /// revocation. AgentIdP's own decisions are handlers, one per decision, listed by endpoint:
    /// <list type="bullet">
    /// <item><see cref="ClientAuthenticationHandlers"/>: who is calling (client secret, or a bearer token at introspection); no anonymous calls.</item>
    /// <item><see cref="IssuanceHandlers"/>: the token endpoint: credentials required, resources, rate limit, scopes within capabilities (and <c>agents:self</c>), the token's claims and audiences, <c>token.issued</c>.</item>
    /// <item><see cref="IntrospectionHandlers"/>: any <c>tokens:read</c> holder may introspect any token; AgentIdP's claims; <c>token.introspected</c>.</item>
    /// <item><see cref="RevocationHandlers"/>: an agent revokes its own tokens (with <c>agents:write</c>, any); <c>token.revoked</c>; an empty 200.</item>
    /// <item><see cref="DiscoveryHandlers"/>: the discovery document's URLs from ISSUER.</item>
    /// <item><see cref="SharedHandlers"/>: revoked or outdated tokens refused wherever a token is validated; 429 and 503 with <c>Retry-After</c>.</item>
    /// </list>
    /// </summary>
    public static IServiceCollection AddAgentOAuthServer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IssuerOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddOptions<AccessTokenOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddOptions<TokenOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddScoped<TokenLiveness>();
        services.AddSingleton<TokenRateLimiter>();

        services.AddOpenIddict().AddServer(server =>
        {
            server.SetTokenEndpointUris(OAuthRequestGuard.TokenPath.TrimStart('/'))
                .SetIntrospectionEndpointUris(OAuthRequestGuard.IntrospectionPath.TrimStart('/'))
                .SetRevocationEndpointUris(OAuthRequestGuard.RevocationPath.TrimStart('/'))
                .SetConfigurationEndpointUris(".well-known/openid-configuration", ".well-known/oauth-authorization-server")
                .SetJsonWebKeySetEndpointUris(".well-known/jwks");

            server.AllowClientCredentialsFlow()
                .EnableDegradedMode()
                .AcceptAnonymousClients() // lets introspection reach AuthenticateBearerCaller; RequireAuthenticatedCaller refuses anonymous calls
                .DisableAccessTokenEncryption()
                .DisableScopeValidation() // scopes are the agent's capabilities: ValidateRequestedScopes
                .DisableResourceValidation() // any absolute URI may be requested as the token's audience (RFC 8707)
                .RegisterScopes([.. AdminCapabilities.ApiScopes]) // scopes_supported: the admin API's, agents:self included
                .RegisterClaims(Claims.Subject, Claims.ClientId, Claims.Audience, Claims.Scope, Claims.JwtId, Claims.IssuedAt,
                    Claims.NotBefore, Claims.ExpiresAt, AgentIdpClaims.CredentialId, AgentIdpClaims.SecretVersion, AgentIdpClaims.SecurityStamp)
                // OpenIddict insists on an encryption key; with access token encryption off and no
                // authorization codes or refresh tokens, it never protects anything that outlives the process.
                .AddEphemeralEncryptionKey();

            server.UseAspNetCore();

            // Each descriptor's SetOrder places its handler in OpenIddict's pipeline: the order of the lists does not.
            foreach (var descriptor in AgentIdpHandlers)
            {
                server.AddEventHandler(descriptor);
            }
            foreach (var descriptor in ReplacedHandlers)
            {
                server.RemoveEventHandler(descriptor);
            }
            // OpenIddict walks every registered handler on each of the dozens of dispatches a request makes:
            // those of endpoints this server does not have only cost time.
            foreach (var descriptor in HandlersOfEndpointsNotServed)
            {
                server.RemoveEventHandler(descriptor);
            }
        });

        services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<IssuerOptions>, IOptions<AccessTokenOptions>>((server, issuer, accessTokens) =>
        {
            server.Issuer = issuer.Value.IssuerUri;
            server.AccessTokenLifetime = accessTokens.Value.Lifetime;
            // Agents authenticate with client secrets only: no private_key_jwt, no client assertions.
            server.ClientAuthenticationMethods.Remove(ClientAuthenticationMethods.PrivateKeyJwt);
            server.ClientAssertionTypes.Clear();
        });
        // An http:// issuer is a development setup; in production TLS is required (behind a proxy that
        // terminates it, set ASPNETCORE_FORWARDEDHEADERS_ENABLED=true so the request scheme is https).
        services.AddOptions<OpenIddictServerAspNetCoreOptions>().Configure<IOptions<IssuerOptions>>((aspNetCore, issuer) =>
            aspNetCore.DisableTransportSecurityRequirement = issuer.Value.IssuerUri.Scheme == Uri.UriSchemeHttp);
        return services;
    }

    private static IEnumerable<OpenIddictServerHandlerDescriptor> AgentIdpHandlers =>
    [
        .. ClientAuthenticationHandlers.DefaultHandlers,
        .. IssuanceHandlers.DefaultHandlers,
        .. IntrospectionHandlers.DefaultHandlers,
        .. RevocationHandlers.DefaultHandlers,
        .. SharedHandlers.DefaultHandlers,
        .. DiscoveryHandlers.DefaultHandlers,
    ];

    /// <summary>OpenIddict's handlers that AgentIdP's replace.</summary>
    private static IEnumerable<OpenIddictServerHandlerDescriptor> ReplacedHandlers =>
    [
        .. IssuanceHandlers.RemovedHandlers,
        .. IntrospectionHandlers.RemovedHandlers,
        .. RevocationHandlers.RemovedHandlers,
    ];

    /// <summary>The authorization (and pushed authorization), end-session, device and userinfo endpoints' handlers.</summary>
    private static IEnumerable<OpenIddictServerHandlerDescriptor> HandlersOfEndpointsNotServed =>
    [
        .. OpenIddictServerHandlers.Authentication.DefaultHandlers,
        .. OpenIddictServerHandlers.Session.DefaultHandlers,
        .. OpenIddictServerHandlers.Device.DefaultHandlers,
        .. OpenIddictServerHandlers.UserInfo.DefaultHandlers,
        .. OpenIddictServerAspNetCoreHandlers.Authentication.DefaultHandlers,
        .. OpenIddictServerAspNetCoreHandlers.Session.DefaultHandlers,
        .. OpenIddictServerAspNetCoreHandlers.Device.DefaultHandlers,
        .. OpenIddictServerAspNetCoreHandlers.UserInfo.DefaultHandlers,
    ];

    public static IApplicationBuilder UseOAuthRequestGuard(this IApplicationBuilder app) => app.UseMiddleware<OAuthRequestGuard>();

    public static IApplicationBuilder UseColdRequestShedding(this IApplicationBuilder app) => app.UseMiddleware<ShedColdRequests>();

    /// <summary>An unexpected failure is a 500 <c>server_error</c>, with nothing of its cause in the body.</summary>
    public static IApplicationBuilder UseOAuthErrorResponses(this IApplicationBuilder app) =>
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = context => OAuthErrorResponse.WriteAsync(context, StatusCodes.Status500InternalServerError,
                Errors.ServerError, "The server encountered an unexpected error."),
        });
}
