using AgentIdp.Testing;
using System.Net;
using AgentIdp.Core.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests;

public sealed class RevocationTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private HttpClient Client => fixture.Client;

    private async Task<bool> IsActiveAsync(string token)
    {
        var (introspector, secret) = await fixture.Data.CreateAgentWithCredentialAsync([AdminCapabilities.TokensRead]);
        using var response = await Client.IntrospectAsync(introspector.Id.ToString(), secret.ClientSecret, token);
        return (await response.JsonAsync()).GetProperty("active").GetBoolean();
    }

    [Fact]
    public async Task An_agent_revokes_its_own_token()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.False(await IsActiveAsync(token));
        await using var db = fixture.Data.Open();
        var revoked = await db.RevokedTokens.SingleAsync(r => r.TokenId == new JsonWebToken(token).Id);
        Assert.Equal(agent.Id, revoked.AgentId);
        Assert.Equal(new JsonWebToken(token).ValidTo, revoked.ExpiresAt.UtcDateTime);
    }

    [Fact]
    public async Task Revoking_leaves_the_agents_other_tokens_alone()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var first = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var second = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var response = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, first);

        Assert.False(await IsActiveAsync(first));
        Assert.True(await IsActiveAsync(second));
    }

    [Fact]
    public async Task Revoking_twice_or_revoking_an_unknown_token_answers_200()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var first = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, token);
        using var second = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, token);
        using var unknown = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, "not-a-token-we-know");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
    }

    [Fact]
    public async Task An_agent_may_not_revoke_another_agents_token()
    {
        var (victim, victimCredential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(victim.Id.ToString(), victimCredential.ClientSecret);
        var (other, otherCredential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read"]);

        using var response = await Client.RevokeAsync(other.Id.ToString(), otherCredential.ClientSecret, token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unauthorized_client", (await response.JsonAsync()).GetProperty("error").GetString());
        Assert.True(await IsActiveAsync(token));
    }

    [Fact]
    public async Task An_agent_holding_agents_write_may_revoke_any_token()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var (admin, adminCredential) = await fixture.Data.CreateAgentWithCredentialAsync([AdminCapabilities.AgentsWrite]);

        using var response = await Client.RevokeAsync(admin.Id.ToString(), adminCredential.ClientSecret, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Revocation_requires_client_authentication()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = await Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using var anonymous = await Client.PostAsync("/api/v1/token/revoke", new FormUrlEncodedContent([new("token", token)]));
        using var wrong = await Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret[..^2] + "zz", token);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("invalid_client", (await wrong.JsonAsync()).GetProperty("error").GetString());
        Assert.True(await IsActiveAsync(token));
    }

    [Fact]
    public async Task A_missing_token_parameter_is_invalid_request()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await Client.PostFormAsync("/api/v1/token/revoke", agent.Id.ToString(), credential.ClientSecret, []);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.JsonAsync()).GetProperty("error").GetString());
    }
}
