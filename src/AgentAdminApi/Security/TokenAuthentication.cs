using AgentAdminApi.Errors;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Core.Tokens;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace AgentAdminApi.Security;

public static class TokenAuthentication
{
    /// <summary>
    /// Bearer access tokens from the AuthServer: signature from its JWKS (found through discovery at
    /// ISSUER), issuer, audience (ADMIN_AUDIENCE: a token meant for another API is refused), type <c>at+jwt</c> and lifetime (<see cref="TokenLifetime"/>); then, on every request,
    /// that the token still stands (<see cref="TokenLiveness"/>): not revoked, its credential neither
    /// revoked nor rotated, its agent active. Anything else is 401 UNAUTHORIZED.
    /// </summary>
    public static IServiceCollection AddAgentTokenAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IssuerOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddScoped<TokenLiveness>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IOptions<IssuerOptions>>((bearer, issuerOptions) =>
        {
            var issuer = issuerOptions.Value;
            bearer.Authority = issuer.Issuer;
            bearer.Audience = issuer.AdminAudience;
            bearer.RequireHttpsMetadata = issuer.IssuerUri.Scheme == Uri.UriSchemeHttps;
            bearer.MapInboundClaims = false;
            bearer.TokenValidationParameters.ValidIssuer = issuer.Issuer;
            bearer.TokenValidationParameters.ValidAudience = issuer.AdminAudience;
            bearer.TokenValidationParameters.ValidTypes = ["at+jwt"];
            bearer.TokenValidationParameters.NameClaimType = RegisteredClaims.Subject;
            // Not JwtBearer's twelve hours: a key withdrawn with `agentidp keys retire` stops validating here as soon as the AuthServer stops publishing it.
            bearer.AutomaticRefreshInterval = SigningKeySchedule.RefreshInterval;
            // Not JwtBearer's five minutes of skew: a token stops at its exp here as at introspection.
            bearer.TokenValidationParameters.LifetimeValidator = (notBefore, expires, _, _) =>
                TokenLifetime.IsCurrent(notBefore, expires, DateTimeOffset.UtcNow);
            bearer.Events = new JwtBearerEvents
            {
                OnTokenValidated = RejectTokensThatNoLongerStandAsync,
                OnChallenge = WriteUnauthorizedAsync,
            };
        });
        return services;
    }

    private static async Task RejectTokensThatNoLongerStandAsync(TokenValidatedContext context)
    {
        var token = context.Principal is { } principal ? IssuedTokenClaims.From(principal) : null;
        var liveness = context.HttpContext.RequestServices.GetRequiredService<TokenLiveness>();
        if (token is null || !await liveness.IsLiveAsync(token, context.HttpContext.RequestAborted))
        {
            context.Fail("The token was revoked, its credential revoked or rotated, or its agent is not active.");
        }
    }

    private static async Task WriteUnauthorizedAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var hasToken = context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        context.Response.Headers.WWWAuthenticate = hasToken ? "Bearer error=\"invalid_token\"" : "Bearer";
        var detail = hasToken
            ? "The bearer token is invalid, expired, revoked, or no longer backed by an active credential and agent."
            : "Send an access token from the AuthServer: Authorization: Bearer <token>.";
        await ApiProblems.Unauthorized(detail).ExecuteAsync(context.HttpContext);
    }
}
