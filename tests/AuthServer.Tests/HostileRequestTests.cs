using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentIdp.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests;

/// <summary>What a black-box review sent the OAuth endpoints: each gets an RFC 6749 error, never a 500, and nothing from the request shapes an answer it should not.</summary>
public sealed class HostileRequestTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Theory]
    [InlineData("/api/v1/token")]
    [InlineData("/api/v1/token/introspect")]
    [InlineData("/api/v1/token/revoke")]
    public async Task A_multipart_body_truncated_or_not_is_invalid_request(string path)
    {
        var truncated = new ByteArrayContent(Encoding.ASCII.GetBytes("--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials"));
        truncated.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
        var whole = new MultipartFormDataContent { { new StringContent("client_credentials"), "grant_type" } };

        using var first = await fixture.Client.PostAsync(path, truncated);
        using var second = await fixture.Client.PostAsync(path, whole);

        foreach (var response in new[] { first, second })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
        }
    }

    [Theory]
    [InlineData("/.well-known/openid-configuration")]
    [InlineData("/.well-known/oauth-authorization-server")]
    public async Task Discovery_builds_every_url_from_ISSUER_not_from_the_Host_header(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "evil.example";

        using var response = await fixture.Client.SendAsync(request);

        var document = await response.JsonAsync();
        foreach (var name in new[] { "issuer", "token_endpoint", "introspection_endpoint", "revocation_endpoint", "jwks_uri" })
        {
            Assert.StartsWith(AuthServerFactory.Issuer, document.GetProperty(name).GetString());
        }
        Assert.DoesNotContain("evil.example", document.ToString());
    }

    [Fact]
    public async Task Introspection_takes_POST_only_as_token_and_revocation_do()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["tokens:read"]);
        var token = await fixture.Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var query = $"?client_id={agent.Id}&client_secret={Uri.EscapeDataString(credential.ClientSecret)}&token={token}";

        using var introspection = await fixture.Client.GetAsync("/api/v1/token/introspect" + query);
        using var revocation = await fixture.Client.GetAsync("/api/v1/token/revoke" + query);

        Assert.Equal(revocation.StatusCode, introspection.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, introspection.StatusCode);
        Assert.Equal("invalid_request", (await introspection.JsonAsync()).GetProperty("error").GetString());
        Assert.DoesNotContain("\"active\"", await introspection.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Several_resources_are_each_an_audience()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await fixture.Client.PostFormAsync("/api/v1/token", agent.Id.ToString(), credential.ClientSecret,
            [new("grant_type", "client_credentials"), new("resource", "https://one.example/"), new("resource", "https://two.example/")]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var jwt = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken((await response.JsonAsync()).GetProperty("access_token").GetString());
        Assert.Equal(["https://one.example/", "https://two.example/"], jwt.Audiences.Order());
    }

    [Fact]
    public async Task An_oversized_chunked_body_gets_an_OAuth_error_on_Kestrel_too()
    {
        // Kestrel, not the in-memory test server: only Kestrel enforces the request body limit while reading.
        await using var kestrel = new AuthServerFactory(fixture.Data.ConnectionString);
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        using var client = kestrel.CreateClient();
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var request = OAuthRequests.ChunkedOversizeTokenRequest(agent.Id.ToString(), credential.ClientSecret);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task Introspection_answers_are_never_cached()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["tokens:read"]);
        var token = await fixture.Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var active = await fixture.Client.IntrospectAsync(agent.Id.ToString(), credential.ClientSecret, token);
        using var inactive = await fixture.Client.IntrospectAsync(agent.Id.ToString(), credential.ClientSecret, "not.a.token");

        Assert.True((await active.JsonAsync()).GetProperty("active").GetBoolean());
        Assert.True(active.Headers.CacheControl?.NoStore);
        Assert.True(inactive.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task A_bearer_caller_at_introspection_needs_a_token_meant_for_the_admin_API()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["tokens:read", "invoices:read"]);
        var id = agent.Id.ToString();
        var target = await fixture.Client.GetAccessTokenAsync(id, credential.ClientSecret, scope: "tokens:read");
        using var forOtherApi = await fixture.Client.RequestTokenAsync(id, credential.ClientSecret, scope: "invoices:read", resource: "https://other.example/");
        var elsewhere = (await forOtherApi.JsonAsync()).GetProperty("access_token").GetString();
        var forAudience = await fixture.Client.GetAccessTokenAsync(id, credential.ClientSecret, scope: "invoices:read");
        await using var oldStyleServer = AuthServerFactory.IssuingOldStyleAdminTokens(fixture.Data.ConnectionString);
        using var oldStyleClient = oldStyleServer.CreateClient();
        var oldStyle = await oldStyleClient.GetAccessTokenAsync(id, credential.ClientSecret, scope: "tokens:read");
        Assert.Equal([AuthServerFactory.Audience], new JsonWebToken(oldStyle).Audiences); // tokens:read, but meant for AUDIENCE alone

        async Task<HttpResponseMessage> IntrospectAsBearerAsync(string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect") { Content = new FormUrlEncodedContent([new("token", target)]) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            return await fixture.Client.SendAsync(request);
        }
        using var accepted = await IntrospectAsBearerAsync(target);

        Assert.True((await accepted.JsonAsync()).GetProperty("active").GetBoolean());
        Assert.Contains(AuthServerFactory.AdminAudience, new JsonWebToken(target).Audiences);
        foreach (var bearer in new[] { elsewhere, forAudience, oldStyle })
        {
            using var refused = await IntrospectAsBearerAsync(bearer);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode); // not even 403: the token does not authenticate the caller
            var body = await refused.JsonAsync();
            Assert.Equal("invalid_client", body.GetProperty("error").GetString());
            Assert.False(body.TryGetProperty("active", out _));
        }
    }
}
