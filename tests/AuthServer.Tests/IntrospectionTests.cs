using AgentIdp.Testing;
using System.Net;
using System.Net.Http.Headers;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Tokens;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tests;

public sealed class IntrospectionTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private HttpClient Client => fixture.Client;

    private async Task<(string Id, string Secret)> IntrospectorAsync(params string[] capabilities)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(capabilities.Length > 0 ? capabilities : [AdminCapabilities.TokensRead]);
        return (agent.Id.ToString(), credential.ClientSecret);
    }

    [Fact]
    public async Task An_active_token_introspects_with_its_claims()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", "invoices:write"]);
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret, scope: "invoices:read");
        var (id, secret) = await IntrospectorAsync();

        using var response = await Client.IntrospectAsync(id, secret, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.True(body.GetProperty("active").GetBoolean());
        Assert.Equal("invoices:read", body.GetProperty("scope").GetString());
        Assert.Equal(agent.Id.ToString(), body.GetProperty("client_id").GetString());
        Assert.Equal(agent.Id.ToString(), body.GetProperty("sub").GetString());
        Assert.Equal("agentidp", body.GetProperty("aud").GetString());
        Assert.Equal(AuthServerFactory.Issuer, body.GetProperty("iss").GetString());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.True(Guid.TryParse(body.GetProperty("jti").GetString(), out _));
        var iat = body.GetProperty("iat").GetInt64();
        Assert.Equal(iat, body.GetProperty("nbf").GetInt64());
        Assert.Equal(iat + 3600, body.GetProperty("exp").GetInt64());
        Assert.Equal(credential.Credential.Id.ToString(), body.GetProperty(AgentIdpClaims.CredentialId).GetString());
    }

    [Fact]
    public async Task A_resource_server_may_introspect_with_a_bearer_token_holding_tokens_read()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var (id, secret) = await IntrospectorAsync();
        var bearer = await Client.GetAccessTokenAsync(id, secret);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect")
        {
            Content = new FormUrlEncodedContent([new("token", token)]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task A_bearer_token_without_tokens_read_may_not_introspect()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", AdminCapabilities.TokensRead]);
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        // Meant for AgentIdP (agents:self brings ADMIN_AUDIENCE), so it authenticates the caller, but without tokens:read.
        var narrow = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret, scope: "invoices:read " + AdminCapabilities.AgentsSelf);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect")
        {
            Content = new FormUrlEncodedContent([new("token", token)]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", narrow);
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("insufficient_scope", (await response.JsonAsync()).GetProperty("error").GetString());
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"insufficient_scope\"", challenge.Parameter);
        Assert.Contains("scope=\"tokens:read\"", challenge.Parameter);
    }

    [Fact]
    public async Task An_invalid_bearer_token_does_not_authenticate_the_caller()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect")
        {
            Content = new FormUrlEncodedContent([new("token", "whatever")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.token");
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_agent_without_tokens_read_may_not_introspect_even_its_own_token()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read"]);
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.IntrospectAsync(agent.Id.ToString(), credential.ClientSecret, token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("insufficient_scope", body.GetProperty("error").GetString());
        Assert.False(body.TryGetProperty("active", out _));
        Assert.DoesNotContain(response.Headers.WwwAuthenticate, challenge => challenge.Scheme == "Bearer");
    }

    [Fact]
    public async Task An_unauthenticated_caller_learns_nothing_about_the_token()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var anonymous = await Client.PostAsync("/api/v1/token/introspect", new FormUrlEncodedContent([new("token", token)]));
        using var wrongSecret = await Client.IntrospectAsync(agent.Id.ToString(), credential.ClientSecret[..^2] + "xx", token);

        foreach (var response in new[] { anonymous, wrongSecret })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal("invalid_client", body.GetProperty("error").GetString());
            Assert.False(body.TryGetProperty("active", out _));
        }
    }

    [Fact]
    public async Task A_missing_token_parameter_is_invalid_request()
    {
        var (id, secret) = await IntrospectorAsync();

        using var response = await Client.PostFormAsync("/api/v1/token/introspect", id, secret, []);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    [InlineData("")]
    public async Task A_malformed_token_is_inactive(string token)
    {
        var (id, secret) = await IntrospectorAsync();

        using var response = await Client.PostFormAsync("/api/v1/token/introspect", id, secret, [new("token", token.Length == 0 ? " " : token)]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"active":false}""", (await response.Content.ReadAsStringAsync()).Replace(" ", "").Replace("\n", ""));
    }

    [Fact]
    public async Task A_token_with_a_forged_signature_is_inactive()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var parts = token.Split('.');
        // Same header and signature, a payload that claims more scope.
        var payload = System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[1]))
            .Replace("invoices:read", "agents:write");
        var forged = $"{parts[0]}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        var (id, secret) = await IntrospectorAsync();

        using var response = await Client.IntrospectAsync(id, secret, forged);

        Assert.False((await response.JsonAsync()).GetProperty("active").GetBoolean());
    }

    public enum Change { RevokeCredential, RotateCredential, SuspendAgent, DecommissionAgent, RevokeToken }

    [Theory]
    [InlineData(Change.RevokeCredential)]
    [InlineData(Change.RotateCredential)]
    [InlineData(Change.SuspendAgent)]
    [InlineData(Change.DecommissionAgent)]
    [InlineData(Change.RevokeToken)]
    public async Task A_token_is_inactive_once_its_credential_or_agent_no_longer_stands(Change change)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var (id, secret) = await IntrospectorAsync();
        using (var before = await Client.IntrospectAsync(id, secret, token))
        {
            Assert.True((await before.JsonAsync()).GetProperty("active").GetBoolean());
        }

        await using (var db = fixture.Data.Open())
        {
            var credentials = db.Credentials.Where(c => c.Id == credential.Credential.Id);
            var agents = db.Agents.Where(a => a.Id == agent.Id);
            _ = change switch
            {
                Change.RevokeCredential => await credentials.ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, CredentialStatus.Revoked).SetProperty(c => c.RevokedAt, DateTimeOffset.UtcNow)),
                Change.RotateCredential => await credentials.ExecuteUpdateAsync(s => s.SetProperty(c => c.SecretVersion, c => c.SecretVersion + 1)),
                Change.SuspendAgent => await agents.ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AgentStatus.Suspended)),
                Change.DecommissionAgent => await agents.ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AgentStatus.Decommissioned)),
                _ => 0,
            };
        }
        if (change == Change.RevokeToken)
        {
            using var revoked = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, token);
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        using var after = await Client.IntrospectAsync(id, secret, token);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        var body = await after.JsonAsync();
        Assert.False(body.GetProperty("active").GetBoolean());
        Assert.Single(body.EnumerateObject());
    }
}
