using System.Globalization;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace AuthServer.Tokens;

/// <summary>
/// Checks what reaches the token, introspection and revocation endpoints before OpenIddict reads it:
/// a bounded body, a form that parses, no parameter given twice (RFC 6749 §3.2), and at the token
/// endpoint a per-client rate limit (429 with Retry-After). Its answers are RFC 6749 error documents,
/// so bad input gets a clear 4xx instead of an exception.
/// </summary>
public sealed class OAuthRequestGuard(RequestDelegate next, IOptions<TokenOptions> options) : IDisposable
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

    private readonly PartitionedRateLimiter<string>? _limiter = options.Value.RequestsPerMinutePerClient switch
    {
        0 => null,
        var perMinute => PartitionedRateLimiter.Create<string, string>(clientId => RateLimitPartition.GetTokenBucketLimiter(clientId,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = Math.Max(1, perMinute / 60),
                ReplenishmentPeriod = TimeSpan.FromSeconds(perMinute >= 60 ? 1 : 60.0 / perMinute),
                QueueLimit = 0,
                AutoReplenishment = true,
            })),
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!HttpMethods.IsPost(context.Request.Method) ||
            !(path.Equals(TokenPath) || path.Equals(IntrospectionPath) || path.Equals(RevocationPath)))
        {
            await next(context);
            return;
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, "invalid_request",
                $"The request body is larger than {MaxBodyBytes / 1024} KiB.");
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = MaxBodyBytes;
        }

        if (context.Request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                context.Features.Set<IFormFeature>(new FormFeature(context.Request, FormLimits));
                form = await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, "invalid_request",
                    $"The request body is larger than {MaxBodyBytes / 1024} KiB.");
                return;
            }
            catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or DecoderFallbackException)
            {
                await RejectAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The request body is not a valid form.");
                return;
            }

            var repeated = form.FirstOrDefault(field => field.Value.Count > 1).Key;
            if (repeated is not null)
            {
                await RejectAsync(context, StatusCodes.Status400BadRequest, "invalid_request",
                    $"The '{Truncate(repeated)}' parameter must not be given more than once.");
                return;
            }

            if (_limiter is not null && path.Equals(TokenPath))
            {
                using var lease = _limiter.AttemptAcquire(RateLimitKey(context.Request, form));
                if (!lease.IsAcquired)
                {
                    if (lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    {
                        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    }
                    await RejectAsync(context, StatusCodes.Status429TooManyRequests, "rate_limit_exceeded",
                        "Too many token requests for this client; retry after the number of seconds in Retry-After.");
                    return;
                }
            }
        }

        await next(context);
    }

    /// <summary>The client the request claims to be: from Basic authentication or the form. Not yet verified.</summary>
    private static string RateLimitKey(HttpRequest request, IFormCollection form)
    {
        var claimed = (string?)form["client_id"];
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
                var separator = decoded.IndexOf(':', StringComparison.Ordinal);
                claimed = Uri.UnescapeDataString((separator < 0 ? decoded : decoded[..separator]).Replace('+', ' '));
            }
            catch (FormatException)
            {
                claimed = null;
            }
        }
        // Only well-formed client ids get a bucket of their own, so made-up ids cannot grow the limiter without bound.
        return Guid.TryParseExact(claimed, "D", out var clientId) ? clientId.ToString() : "malformed";
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private static Task RejectAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return context.Response.WriteAsJsonAsync(new Dictionary<string, string>
        {
            ["error"] = error,
            ["error_description"] = description,
        }, context.RequestAborted);
    }

    public void Dispose() => _limiter?.Dispose();
}
