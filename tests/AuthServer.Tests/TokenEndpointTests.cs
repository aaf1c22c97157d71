using AgentIdp.Testing;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests;

public sealed class TokenEndpointTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_agent_gets_an_RFC_9068_access_token_with_basic_or_post_authentication(bool basic)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", "invoices:write"]);
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, basic: basic);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        var body = await response.JsonAsync();
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 3598, 3600);
        Assert.Equal("invoices:read invoices:write", body.GetProperty("scope").GetString());

        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal("RS256", token.Alg);
        Assert.False(string.IsNullOrEmpty(token.Kid));
        Assert.Equal(AuthServerFactory.Issuer, token.Issuer);
        Assert.Equal(agent.Id.ToString(), token.Subject);
        Assert.Equal(agent.Id.ToString(), token.GetClaim("client_id").Value);
        Assert.Equal(["agentidp"], token.Audiences);
        Assert.Equal("invoices:read invoices:write", token.GetClaim("scope").Value);
        Assert.True(Guid.TryParse(token.Id, out _));
        Assert.Equal(credential.Credential.Id.ToString(), token.GetClaim("credential_id").Value);
        Assert.Equal("1", token.GetClaim("secret_version").Value);
        var issuedAt = long.Parse(token.GetClaim("iat").Value);
        Assert.InRange(issuedAt, before - 1, before + 60);
        Assert.Equal(issuedAt, long.Parse(token.GetClaim("nbf").Value));
        Assert.Equal(issuedAt + 3600, long.Parse(token.GetClaim("exp").Value));
    }

    [Fact]
    public async Task A_token_carries_no_OpenIddict_internal_claim()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        var token = new JsonWebToken(await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret));

        Assert.DoesNotContain(token.Claims, claim => claim.Type.StartsWith("oi_", StringComparison.Ordinal));
        Assert.Equal(
            ["aud", "client_id", "credential_id", "exp", "iat", "iss", "jti", "nbf", "scope", "secret_version", "security_stamp", "sub"],
            token.Claims.Select(claim => claim.Type).Distinct().Order());
    }

    [Fact]
    public async Task A_token_carries_only_the_requested_scopes()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", "invoices:write", "reports:read"]);

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, scope: "reports:read invoices:read");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        var scopes = body.GetProperty("scope").GetString()!.Split(' ');
        Assert.Equal(["invoices:read", "reports:read"], scopes.Order());
        Assert.Equal(scopes.Order(), new JsonWebToken(body.GetProperty("access_token").GetString()).GetClaim("scope").Value.Split(' ').Order());
    }

    [Fact]
    public async Task A_scope_outside_the_agents_capabilities_is_invalid_scope()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read"]);

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, scope: "invoices:read agents:write");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("invalid_scope", body.GetProperty("error").GetString());
        Assert.Contains("agents:write", body.GetProperty("error_description").GetString());
        Assert.False(body.TryGetProperty("access_token", out _));
    }

    [Fact]
    public async Task A_requested_resource_becomes_the_audience()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, resource: "https://invoices.example.com/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = new JsonWebToken((await response.JsonAsync()).GetProperty("access_token").GetString());
        Assert.Equal(["https://invoices.example.com/"], token.Audiences);
    }

    [Theory]
    [InlineData("not-a-uri")]
    [InlineData("https://invoices.example.com/#fragment")]
    public async Task A_resource_that_is_not_an_absolute_uri_is_refused(string resource)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, resource: resource);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_unknown_agent_and_a_wrong_secret_get_the_same_answer()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var wrongSecret = credential.ClientSecret[..^4] + (credential.ClientSecret.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");

        using var unknown = await Client.RequestTokenAsync(Guid.NewGuid().ToString(), credential.ClientSecret);
        using var wrong = await Client.RequestTokenAsync(agent.Id.ToString(), wrongSecret);

        foreach (var response in new[] { unknown, wrong })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        }
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), await wrong.Content.ReadAsStringAsync());
        var body = await wrong.JsonAsync();
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Every_character_of_the_secret_counts()
    {
        // bcrypt reads only 72 bytes; a secret is longer, so a change at its very end must still be refused.
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var secret = credential.ClientSecret;
        var altered = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), altered);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_secret_is_accepted_only_with_the_client_id_it_belongs_to()
    {
        var (_, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var (other, _) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.RequestTokenAsync(other.Id.ToString(), credential.ClientSecret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_client_id_is_matched_exactly()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.RequestTokenAsync(agent.Id.ToString().ToUpperInvariant(), credential.ClientSecret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_revoked_credential_authenticates_nothing()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        await using (var db = fixture.Data.Open())
        {
            await db.Credentials.Where(c => c.Id == credential.Credential.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CredentialStatus.Revoked).SetProperty(c => c.RevokedAt, DateTimeOffset.UtcNow));
        }

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_expired_credential_authenticates_nothing()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var credential = await fixture.Data.IssueCredentialAsync(agent.Id, expiresAt: DateTimeOffset.UtcNow.AddSeconds(-1));

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_never_outlives_its_credential()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var expiresAt = DateTimeOffset.UtcNow.AddMinutes(10);
        var credential = await fixture.Data.IssueCredentialAsync(agent.Id, expiresAt);

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 590, 600);
        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.InRange(token.ValidTo, expiresAt.UtcDateTime.AddSeconds(-2), expiresAt.UtcDateTime.AddSeconds(1));
    }

    [Theory]
    [InlineData(AgentStatus.Suspended)]
    [InlineData(AgentStatus.Decommissioned)]
    public async Task An_agent_that_is_not_active_gets_no_token(AgentStatus status)
    {
        var agent = await fixture.Data.CreateAgentAsync(status: status);
        var credential = await fixture.Data.IssueCredentialAsync(agent.Id);

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_request_without_client_authentication_is_invalid_client()
    {
        using var response = await Client.PostAsync("/api/v1/token",
            new FormUrlEncodedContent([new("grant_type", "client_credentials")]));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_client_id_without_a_secret_is_invalid_client()
    {
        var (agent, _) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.PostAsync("/api/v1/token",
            new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", agent.Id.ToString())]));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Basic_and_post_authentication_together_are_invalid_request()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token")
        {
            Content = new FormUrlEncodedContent([
                new("grant_type", "client_credentials"), new("client_id", agent.Id.ToString()), new("client_secret", credential.ClientSecret)]),
        };
        request.Headers.Authorization = OAuthRequests.Basic(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("password")]
    [InlineData("authorization_code")]
    [InlineData("urn:ietf:params:oauth:grant-type:jwt-bearer")]
    [InlineData("made_up")]
    public async Task Other_grant_types_are_unsupported(string grantType)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.PostFormAsync("/api/v1/token", agent.Id.ToString(), credential.ClientSecret,
            [new("grant_type", grantType)]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unsupported_grant_type", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_missing_grant_type_is_invalid_request()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.PostFormAsync("/api/v1/token", agent.Id.ToString(), credential.ClientSecret, []);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("application/json", "{\"grant_type\":\"client_credentials\"}")]
    [InlineData("text/plain", "grant_type=client_credentials")]
    [InlineData(null, "grant_type=client_credentials")]
    public async Task A_body_that_is_not_a_form_is_invalid_request(string? contentType, string body)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token") { Content = new StringContent(body) };
        request.Content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);
        request.Headers.Authorization = OAuthRequests.Basic(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_token_endpoint_takes_only_POST()
    {
        using var response = await Client.GetAsync("/api/v1/token?grant_type=client_credentials");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("grant_type=client_credentials&grant_type=client_credentials", "grant_type")]
    [InlineData("grant_type=client_credentials&scope=a:b&scope=c:d", "scope")]
    public async Task A_repeated_parameter_is_invalid_request(string form, string parameter)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token")
        {
            Content = new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = OAuthRequests.Basic(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
        Assert.Contains(parameter, body.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task An_oversize_body_is_refused_with_413()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var response = await Client.PostFormAsync("/api/v1/token", agent.Id.ToString(), credential.ClientSecret,
            [new("grant_type", "client_credentials"), new("scope", new string('a', 1024 * 1024))]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_oversize_body_without_a_length_is_refused_too()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var request = OAuthRequests.ChunkedOversizeTokenRequest(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, response.StatusCode.ToString());
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("Basic !!!notbase64")]
    [InlineData("Basic bm8tY29sb24=")]
    public async Task Malformed_basic_credentials_are_a_4xx(string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await Client.SendAsync(request);

        Assert.InRange((int)response.StatusCode, 400, 401);
        Assert.True((await response.JsonAsync()).TryGetProperty("error", out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("aidp_")]
    [InlineData("not a secret at all")]
    [InlineData("aidp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Malformed_secrets_are_invalid_client(string secret)
    {
        var agent = await fixture.Data.CreateAgentAsync();

        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), secret, basic: false);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Concurrent_requests_each_get_a_token_of_their_own()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => new JsonWebToken((await r.JsonAsync()).GetProperty("access_token").GetString()).Id));
        Assert.Equal(20, ids.Distinct().Count());
    }
}
