using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AgentIdp.Core.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AgentAdminApi.Tests;

/// <summary>
/// Self-service needs a token that carries agents:self. A token an agent asked for other scopes cannot read
/// its record or touch its credentials, even one the admin API accepts; and agents:self is no capability to hold.
/// </summary>
public sealed class SelfServiceScopeTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    public enum Token { AnotherAdminScope, ResourceAdminAudience, AgentsSelf }

    private async Task<(Agent Agent, string Secret, Guid CredentialId, HttpClient Client)> AgentWithTokenAsync(Token kind)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", AdminCapabilities.AuditRead]);
        using var response = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, kind switch
        {
            Token.AnotherAdminScope => AdminCapabilities.AuditRead,
            Token.ResourceAdminAudience => "invoices:read",
            _ => AdminCapabilities.AgentsSelf,
        }, resource: kind == Token.ResourceAdminAudience ? AuthServerFactory.AdminAudience : null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = new JsonWebToken((await response.JsonAsync()).GetProperty("access_token").GetString());
        Assert.Contains(AuthServerFactory.AdminAudience, token.Audiences); // accepted by the admin API: what it may do is up to its scopes
        var client = fixture.AdminApi.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.EncodedToken);
        return (agent, credential.ClientSecret, credential.Credential.Id, client);
    }

    private static string Path(Guid agentId, string rest = "") => $"/api/v1/agents/{agentId}{rest}";

    [Theory]
    [InlineData(Token.AnotherAdminScope)]
    [InlineData(Token.ResourceAdminAudience)]
    public async Task Without_agents_self_an_agent_can_neither_read_its_record_nor_manage_its_credentials(Token kind)
    {
        var (agent, secret, credentialId, client) = await AgentWithTokenAsync(kind);

        using var read = await client.GetAsync(Path(agent.Id));
        using var list = await client.GetAsync(Path(agent.Id, "/credentials"));
        using var generate = await client.PostAsJsonAsync(Path(agent.Id, "/credentials"), new { });
        using var rotate = await client.PostAsync(Path(agent.Id, $"/credentials/{credentialId}/rotate"), null);
        using var revoke = await client.DeleteAsync(Path(agent.Id, $"/credentials/{credentialId}"));

        foreach (var response in new[] { read, list, generate, rotate, revoke })
        {
            var problem = await response.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
            Assert.Contains($"'{AdminCapabilities.AgentsSelf}'", problem.GetProperty("detail").GetString());
        }
        await using var db = fixture.Data.Open();
        var credential = await db.Credentials.AsNoTracking().SingleAsync(c => c.AgentId == agent.Id);
        Assert.Equal((credentialId, 1, (DateTimeOffset?)null), (credential.Id, credential.SecretVersion, credential.RevokedAt));
        using var stillWorks = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), secret);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task With_agents_self_the_same_agent_reads_its_record_and_lists_its_credentials()
    {
        var (agent, _, credentialId, client) = await AgentWithTokenAsync(Token.AgentsSelf);

        using var read = await client.GetAsync(Path(agent.Id));
        using var list = await client.GetAsync(Path(agent.Id, "/credentials"));
        using var audit = await client.GetAsync("/api/v1/audit");

        Assert.Equal(agent.Id.ToString(), (await read.JsonAsync()).GetProperty("agentId").GetString());
        Assert.Equal(credentialId.ToString(), (await list.JsonAsync()).GetProperty("data")[0].GetProperty("credentialId").GetString());
        await audit.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN"); // agents:self is only itself: the agent holds audit:read but did not ask for it
    }

    [Fact]
    public async Task Agents_self_cannot_be_given_as_a_capability()
    {
        var created = await fixture.Admin.RegisterAsync();
        var id = created.GetProperty("agentId").GetString();

        using var register = await fixture.Admin.PostAsJsonAsync("/api/v1/agents",
            AdminApiRequests.NewAgent(capabilities: ["invoices:read", AdminCapabilities.AgentsSelf]));
        using var patch = await fixture.Admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { capabilities = new[] { AdminCapabilities.AgentsSelf } });

        Assert.Equal(["capabilities[1]"], await register.ValidationErrorsAsync());
        Assert.Equal(["capabilities[0]"], await patch.ValidationErrorsAsync());
        await using var db = fixture.Data.Open();
        Assert.Equal(["invoices:read"], (await db.Agents.SingleAsync(a => a.Id == Guid.Parse(id!))).Capabilities);
    }
}
