using System.Text;
using AgentIdp.Core.Http;
using Microsoft.AspNetCore.Http.Features;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Tokens;

/// <summary>
/// Checks what reaches the token, introspection and revocation endpoints before OpenIddict reads it:
/// POST only, a bounded <c>application/x-www-form-urlencoded</c> body that parses, no parameter given
/// twice but <c>resource</c> (RFC 6749 §3.2, RFC 8707 §2). Its answers are RFC 6749 error documents, so
/// bad input gets a clear 4xx instead of an exception.
/// </summary>
public sealed class OAuthRequestGuard(RequestDelegate next)
{
    public const string TokenPath = "/api/v1/token";
    public const string IntrospectionPath = "/api/v1/token/introspect";
    public const string RevocationPath = "/api/v1/token/revoke";
    public const int MaxBodyBytes = 16 * 1024;

    private static readonly FormOptions FormLimits = new()
    {
        ValueLengthLimit = MaxBodyBytes,
        KeyLengthLimit = 128,
        ValueCountLimit = 32,
        BufferBodyLengthLimit = MaxBodyBytes,
    };

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsOAuthRequest(context.Request))
        {
            if (context.Request.Path.Equals(IntrospectionPath))
            {
                // OpenIddict would take an introspection request by GET, with the secret and token in the URL (RFC 7662 §2.1 says POST).
                await OAuthErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, Errors.InvalidRequest,
                    "The introspection endpoint takes POST requests only.");
                return;
            }
            await next(context);
            return;
        }

        if (await RequestBodyLimit.ExceedsAsync(context, MaxBodyBytes))
        {
            await OAuthErrorResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, Errors.InvalidRequest, RequestBodyLimit.TooLarge(MaxBodyBytes));
            return;
        }

        if (context.Request.HasFormContentType)
        {
            if (!IsUrlEncodedForm(context.Request))
            {
                await OAuthErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, Errors.InvalidRequest,
                    "The request body must be application/x-www-form-urlencoded.");
                return;
            }
            IFormCollection form;
            try
            {
                context.Features.Set<IFormFeature>(new FormFeature(context.Request, FormLimits));
                form = await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or DecoderFallbackException)
            {
                await OAuthErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, Errors.InvalidRequest, "The request body is not a valid form.");
                return;
            }

            var repeated = form.FirstOrDefault(field => field.Value.Count > 1 && field.Key != Parameters.Resource).Key;
            if (repeated is not null)
            {
                await OAuthErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, Errors.InvalidRequest,
                    $"The '{Truncate(repeated)}' parameter must not be given more than once.");
                return;
            }
        }

        await next(context);
    }

    /// <summary>A POST to the token, introspection or revocation endpoint.</summary>
    public static bool IsOAuthRequest(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) &&
        (request.Path.Equals(TokenPath) || request.Path.Equals(IntrospectionPath) || request.Path.Equals(RevocationPath));

    private static bool IsUrlEncodedForm(HttpRequest request) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type) &&
        type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
