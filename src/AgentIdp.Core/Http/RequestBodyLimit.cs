using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AgentIdp.Core.Http;

/// <summary>The bound on a request body that both services enforce before anything reads it.</summary>
public static class RequestBodyLimit
{
    /// <summary>
    /// True if the body is larger than <paramref name="maxBytes"/>. A declared length is judged as it is; a
    /// body sent without one (chunked) is read here, up to one byte past the limit, and kept for the
    /// endpoint. Kestrel's own limit is not used for it: a body Kestrel refuses mid-read is answered with
    /// Kestrel's empty 413, whatever the application writes.
    /// </summary>
    public static async Task<bool> ExceedsAsync(HttpContext context, long maxBytes)
    {
        var request = context.Request;
        if (request.ContentLength is { } declared)
        {
            return declared > maxBytes;
        }
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return false;
        }
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                return true;
            }
        }
        buffer.Position = 0;
        request.Body = buffer;
        request.ContentLength = buffer.Length;
        return false;
    }

    /// <summary>The sentence every too-large answer gives.</summary>
    public static string TooLarge(long maxBytes) => $"The request body is larger than {maxBytes / 1024} KiB.";
}
