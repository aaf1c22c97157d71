using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AgentIdp.Core.Http;

/// <summary>The bound on a request body that both services enforce before anything reads it.</summary>
public static class RequestBodyLimit
{
    /// <summary>
    /// True if the declared length is over <paramref name="maxBytes"/>; otherwise caps what the server will
    /// read of a body sent without a length (chunked), so reading past it fails with a 413.
    /// </summary>
    public static bool Exceeds(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return true;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }
        return false;
    }

    /// <summary>The sentence every too-large answer gives.</summary>
    public static string TooLarge(long maxBytes) => $"The request body is larger than {maxBytes / 1024} KiB.";
}
