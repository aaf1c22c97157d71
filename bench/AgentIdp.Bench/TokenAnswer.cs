using System.Buffers.Text;
using System.Text.Json;

namespace AgentIdp.Bench;

/// <summary>One answer of the token endpoint, as the bench's own client saw it (status 0: no answer, the connection failed).</summary>
internal sealed record TokenAnswer(int Status, string Body, TimeSpan Elapsed)
{
    /// <summary>The <c>alg</c> of the access token's JOSE header, or null when the body holds no JWT.</summary>
    public string? SigningAlgorithm()
    {
        try
        {
            using var body = JsonDocument.Parse(Body);
            var token = body.RootElement.GetProperty("access_token").GetString() ?? "";
            var header = token.Split('.')[0];
            using var jose = JsonDocument.Parse(Base64Url.DecodeFromChars(header));
            return jose.RootElement.GetProperty("alg").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
