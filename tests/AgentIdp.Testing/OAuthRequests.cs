using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace AgentIdp.Testing;

/// <summary>Requests the tests make again and again.</summary>
public static class OAuthRequests
{
    public static Task<HttpResponseMessage> RequestTokenAsync(this HttpClient client, string clientId, string secret,
        string? scope = null, string? resource = null, bool basic = true)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scope is not null)
        {
            form.Add(new("scope", scope));
        }
        if (resource is not null)
        {
            form.Add(new("resource", resource));
        }
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token");
        AddClientAuthentication(request, form, clientId, secret, basic);
        request.Content = new FormUrlEncodedContent(form);
        return client.SendAsync(request);
    }

    public static async Task<string> GetAccessTokenAsync(this HttpClient client, string clientId, string secret, string? scope = null)
    {
        using var response = await client.RequestTokenAsync(clientId, secret, scope);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("access_token").GetString()!;
    }

    public static Task<HttpResponseMessage> IntrospectAsync(this HttpClient client, string clientId, string secret, string token) =>
        client.PostFormAsync("/api/v1/token/introspect", clientId, secret, [new("token", token)]);

    public static Task<HttpResponseMessage> RevokeAsync(this HttpClient client, string clientId, string secret, string token) =>
        client.PostFormAsync("/api/v1/token/revoke", clientId, secret, [new("token", token)]);

    public static Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string path, string clientId, string secret,
        List<KeyValuePair<string, string>> form, bool basic = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        AddClientAuthentication(request, form, clientId, secret, basic);
        request.Content = new FormUrlEncodedContent(form);
        return client.SendAsync(request);
    }

    /// <summary>A token request whose 64 KiB body is sent chunked, without a Content-Length to refuse it by.</summary>
    public static HttpRequestMessage ChunkedOversizeTokenRequest(string clientId, string secret)
    {
        var content = new StreamContent(new MemoryStream(System.Text.Encoding.ASCII.GetBytes("grant_type=client_credentials&scope=" + new string('a', 64 * 1024))));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = Basic(clientId, secret);
        return request;
    }

    /// <summary>client_secret_basic as RFC 6749 §2.3.1 spells it: form-urlencode each part, then base64.</summary>
    public static AuthenticationHeaderValue Basic(string clientId, string secret) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));

    private static void AddClientAuthentication(HttpRequestMessage request, List<KeyValuePair<string, string>> form,
        string clientId, string secret, bool basic)
    {
        if (basic)
        {
            request.Headers.Authorization = Basic(clientId, secret);
        }
        else
        {
            form.Add(new("client_id", clientId));
            form.Add(new("client_secret", secret));
        }
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();
}
