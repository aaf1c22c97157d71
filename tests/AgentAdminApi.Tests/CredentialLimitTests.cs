using System.Net;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

/// <summary>At most MAX_ACTIVE_CREDENTIALS_PER_AGENT (default 10) live credentials per agent, and the credentials list in pages.</summary>
public sealed class CredentialLimitTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private const int Limit = 10;

    private async Task<HttpResponseMessage> GenerateAsync(HttpClient client, Guid agentId) =>
        await client.PostAsync($"/api/v1/agents/{agentId}/credentials", null);

    [Fact]
    public async Task An_agent_holding_the_most_live_credentials_gets_409_and_no_new_row_until_one_goes()
    {
        var (agent, _, self) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);
        await fixture.Data.IssueCredentialAsync(agent.Id, expiresAt: DateTimeOffset.UtcNow.AddSeconds(-1)); // expired: does not count
        for (var i = 1; i < Limit; i++)
        {
            using var created = await GenerateAsync(self, agent.Id);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var refused = await GenerateAsync(self, agent.Id);

        await refused.ProblemAsync(HttpStatusCode.Conflict, "CREDENTIAL_LIMIT_REACHED");
        await using var db = fixture.Data.Open();
        Assert.Equal(Limit, await db.Credentials.CountAsync(c => c.AgentId == agent.Id && c.Status == CredentialStatus.Active && c.ExpiresAt == null));
        Assert.True(await db.AuditEvents.AnyAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialGenerated && e.Outcome == AuditOutcome.Failure));

        var someone = await db.Credentials.FirstAsync(c => c.AgentId == agent.Id && c.ExpiresAt == null);
        using var revoked = await fixture.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}/credentials/{someone.Id}");
        using var again = await GenerateAsync(fixture.Admin, agent.Id);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_cannot_pass_the_limit_together()
    {
        var agent = await fixture.Data.CreateAgentAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, Limit + 5).Select(_ => GenerateAsync(fixture.Admin, agent.Id)));

        Assert.Equal(Limit, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        await using var db = fixture.Data.Open();
        Assert.Equal(Limit, await db.Credentials.CountAsync(c => c.AgentId == agent.Id));
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task The_credentials_list_pages_newest_first_without_gaps_or_repeats()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var issued = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            issued.Add((await fixture.Data.IssueCredentialAsync(agent.Id)).Credential.Id);
        }

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var response = await fixture.Admin.GetAsync($"/api/v1/agents/{agent.Id}/credentials?limit=2" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.JsonAsync();
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(c => Guid.Parse(c.GetProperty("credentialId").GetString()!)));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(issued.AsEnumerable().Reverse(), seen);
    }

    [Fact]
    public async Task A_bad_limit_or_another_lists_cursor_is_a_validation_error()
    {
        var first = await fixture.Data.CreateAgentAsync();
        var second = await fixture.Data.CreateAgentAsync();
        for (var i = 0; i < 2; i++)
        {
            await fixture.Data.IssueCredentialAsync(first.Id);
        }
        using var firstPage = await fixture.Admin.GetAsync($"/api/v1/agents/{first.Id}/credentials?limit=1");
        var cursor = (await firstPage.JsonAsync()).GetProperty("nextCursor").GetString()!;

        using var badLimit = await fixture.Admin.GetAsync($"/api/v1/agents/{first.Id}/credentials?limit=0");
        using var foreignCursor = await fixture.Admin.GetAsync($"/api/v1/agents/{second.Id}/credentials?cursor={Uri.EscapeDataString(cursor)}");

        Assert.Equal(["limit"], await badLimit.ValidationErrorsAsync());
        Assert.Equal(["cursor"], await foreignCursor.ValidationErrorsAsync());
    }
}
