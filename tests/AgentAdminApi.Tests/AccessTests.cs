using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AgentIdp.Core.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentAdminApi.Tests;

public sealed class AccessTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private Task<HttpResponseMessage> GetAgentsWithAsync(string? authorization) => fixture.GetAgentsWithAsync(authorization);

    [Fact]
    public async Task A_request_without_a_token_is_401_with_a_bearer_challenge()
    {
        using var response = await GetAgentsWithAsync(null);

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("Bearer not.a.jwt")]
    [InlineData("Bearer ")]
    [InlineData("Basic YWJjOmRlZg==")]
    public async Task A_malformed_token_is_401(string authorization)
    {
        using var response = await GetAgentsWithAsync(authorization);

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task A_token_for_another_audience_is_401_whatever_the_agent_holds()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync([.. AdminCapabilities.All, "payments:read"]);
        // Only another API's scope: with an admin API scope, the token would be for the admin API too.
        using var tokenResponse = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, scope: "payments:read",
            resource: "https://payments.example.com/");
        var token = (await tokenResponse.JsonAsync()).GetProperty("access_token").GetString();

        using var response = await GetAgentsWithAsync($"Bearer {token}");

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task A_token_signed_by_anyone_else_is_401()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        var real = new JsonWebToken(await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret));
        var forged = AdminApiRequests.SignedByAnotherKey(real);

        using var response = await GetAgentsWithAsync($"Bearer {forged}");

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task A_token_revoked_at_the_AuthServer_is_refused_at_once()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        var token = await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        using (var before = await GetAgentsWithAsync($"Bearer {token}"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (await fixture.OAuth.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, token)) { }
        using var after = await GetAgentsWithAsync($"Bearer {token}");

        await after.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task A_token_whose_agent_was_decommissioned_is_refused()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        var token = await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        using (var delete = await fixture.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using var response = await GetAgentsWithAsync($"Bearer {token}");

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task A_token_is_limited_to_the_scopes_it_was_issued_with()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        var client = await fixture.ClientAsync(agent.Id, credential.ClientSecret, scope: AdminCapabilities.AuditRead);

        using var agents = await client.GetAsync("/api/v1/agents");
        using var audit = await client.GetAsync("/api/v1/audit");

        var problem = await agents.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        Assert.Contains("agents:read", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
    }
}
