using System.Net;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

/// <summary>
/// With agents:self an agent may read its own record and manage its own credentials, but changing or
/// decommissioning an agent takes agents:write, for itself too: otherwise any agent could grant itself any
/// capability. The tokens here carry agents:self and the agent holds agents:read, and still neither will do.
/// </summary>
public sealed class SelfServiceLimitsTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private const string SelfAndRead = AdminCapabilities.AgentsSelf + " " + AdminCapabilities.AgentsRead;

    /// <summary>The row as stored, every field a PATCH or DELETE could touch.</summary>
    private async Task<string> RowAsync(Guid agentId)
    {
        await using var db = fixture.Data.Open();
        var agent = await db.Agents.AsNoTracking().SingleAsync(a => a.Id == agentId);
        return string.Join(" | ", agent.Email, agent.AgentType, agent.Version, string.Join(',', agent.Capabilities), agent.Owner,
            agent.DeploymentEnv, agent.Status, agent.SecurityStamp, agent.UpdatedAt.ToString("O"));
    }

    private async Task<bool> RefusalAuditedAsync(Guid agentId, string action)
    {
        await using var db = fixture.Data.Open();
        return await db.AuditEvents.AnyAsync(e => e.AgentId == agentId && e.Action == action && e.Outcome == AuditOutcome.Failure);
    }

    [Theory]
    [InlineData("""{"capabilities":["invoices:read","agents:read","agents:write"]}""")]
    [InlineData("""{"status":"suspended"}""")]
    [InlineData("""{"owner":"team-of-its-own-choosing"}""")]
    public async Task An_agent_without_agents_write_cannot_patch_its_own_record(string body)
    {
        var (self, _, client) = await fixture.AgentAsync(["invoices:read", AdminCapabilities.AgentsRead], scope: SelfAndRead);
        var before = await RowAsync(self.Id);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/api/v1/agents/{self.Id}", body);

        var problem = await response.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        Assert.Contains(AdminCapabilities.AgentsWrite, problem.GetProperty("detail").GetString());
        Assert.Equal(before, await RowAsync(self.Id));
        Assert.True(await RefusalAuditedAsync(self.Id, AuditActions.AgentUpdated));
        using var stillWorks = await client.GetAsync($"/api/v1/agents/{self.Id}"); // nothing changed: not even its token's standing
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task An_agent_without_agents_write_cannot_decommission_itself()
    {
        var (self, _, client) = await fixture.AgentAsync(["invoices:read", AdminCapabilities.AgentsRead], scope: SelfAndRead);
        var before = await RowAsync(self.Id);

        using var response = await client.DeleteAsync($"/api/v1/agents/{self.Id}");

        var problem = await response.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        Assert.Contains(AdminCapabilities.AgentsWrite, problem.GetProperty("detail").GetString());
        Assert.Equal(before, await RowAsync(self.Id));
        await using (var db = fixture.Data.Open())
        {
            Assert.All(await db.Credentials.Where(c => c.AgentId == self.Id).ToListAsync(), c => Assert.Equal(CredentialStatus.Active, c.Status));
        }
        Assert.True(await RefusalAuditedAsync(self.Id, AuditActions.AgentDecommissioned));
        using var stillWorks = await client.GetAsync($"/api/v1/agents/{self.Id}");
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }
}
