using System.Text;
using AgentIdp.Core.RateLimiting;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Telemetry;
using AuthServer.Tokens.ClientAuthentication;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

/// <summary>While bcrypt is saturated, a client secret the verified-secret cache does not recognize gets 503 <c>temporarily_unavailable</c> with <c>Retry-After</c> before OpenIddict or PostgreSQL see it.</summary>
/// <remarks>
/// It would be shed at the check anyway; here a storm of cold requests costs little more than its bytes, and the
/// cores stay with bcrypt and the agents whose secrets are cached. <see cref="BcryptVerifier"/> still sheds the rest.
/// </remarks>
public sealed class ShedColdRequests(RequestDelegate next, BcryptVerifier bcrypt, VerifiedSecretCache cache, AgentIdpMetrics metrics)
{
    private static readonly TimeSpan RetryAfterShed = TimeSpan.FromSeconds(1);

    public async Task InvokeAsync(HttpContext context)
    {
        if (bcrypt.IsSaturated && OAuthRequestGuard.IsOAuthRequest(context.Request) &&
            await PresentedSecretAsync(context.Request) is { Length: > 0 } secret && !cache.Recognizes(secret))
        {
            metrics.Shed(AgentIdpMetrics.SheddingStages.Guard);
            context.Response.Headers.RetryAfter = RetryAfter.Seconds(RetryAfterShed);
            await OAuthErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, Errors.TemporarilyUnavailable,
                AuthenticateAgentClient.Overloaded);
            return;
        }
        await next(context);
    }

    /// <summary>The client secret of client_secret_basic (RFC 6749 §2.3.1) or client_secret_post, if any.</summary>
    private static async ValueTask<string?> PresentedSecretAsync(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon < 0 ? null : Uri.UnescapeDataString(pair[(colon + 1)..].Replace('+', ' '));
            }
            catch (FormatException)
            {
                return null; // OpenIddict answers a malformed header
            }
        }
        if (!request.HasFormContentType)
        {
            return null;
        }
        var form = await request.ReadFormAsync(); // read and checked by the guard already: this is what it read
        return form.TryGetValue(Parameters.ClientSecret, out var secret) ? secret.ToString() : null;
    }
}
