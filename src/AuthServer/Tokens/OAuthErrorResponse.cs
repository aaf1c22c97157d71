using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

/// <summary>The AuthServer's own error answers, outside OpenIddict: an RFC 6749 §5.2 error document, never cached (§5.1).</summary>
internal static class OAuthErrorResponse
{
    public static Task WriteAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return context.Response.WriteAsJsonAsync(new Dictionary<string, string>
        {
            [Parameters.Error] = error,
            [Parameters.ErrorDescription] = description,
        }, context.RequestAborted);
    }
}
