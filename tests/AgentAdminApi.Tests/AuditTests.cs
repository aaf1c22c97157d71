using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

public sealed class AuditTests(ForwardedAdminApiFixture fixture) : IClassFixture<ForwardedAdminApiFixture>
{
    private HttpClient Admin => fixture.Admin;

    private async Task<List<JsonElement>> EventsAsync(string query)
    {
        using var response = await Admin.GetAsync("/api/v1/audit" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.JsonAsync()).GetProperty("data").EnumerateArray()];
    }

    [Fact]
    public async Task Admin_actions_are_recorded_with_actor_subject_outcome_and_ip()
    {
        var created = await Admin.RegisterAsync();
        var id = created.GetProperty("agentId").GetString();
        using (await Admin.PostAsJsonAsync($"/api/v1/agents/{id}/credentials", new { })) { }
        using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { status = "suspended" })) { }

        var events = await EventsAsync($"?agentId={id}");

        Assert.Equal([AuditActions.AgentSuspended, AuditActions.CredentialGenerated, AuditActions.AgentCreated], events.Select(e => e.GetProperty("action").GetString()));
        Assert.All(events, e =>
        {
            Assert.Equal(id, e.GetProperty("agentId").GetString());
            Assert.Equal(fixture.AdminAgent.Id.ToString(), e.GetProperty("actor").GetString());
            Assert.Equal("success", e.GetProperty("outcome").GetString());
            Assert.Equal(ForwardedAdminApiFixture.CallerIp, e.GetProperty("ip").GetString());
            Assert.Equal(JsonValueKind.Object, e.GetProperty("details").ValueKind);
            Assert.EndsWith("Z", e.GetProperty("occurredAt").GetString());
            Assert.Matches("^[0-9a-f]{64}$", e.GetProperty("hash").GetString());
            Assert.Equal(10, e.EnumerateObject().Count());
        });
        // Newest first: their places in the chain descend.
        var sequences = events.Select(e => e.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.OrderDescending(), sequences);
    }

    [Fact]
    public async Task Each_event_shows_its_place_and_hash_in_the_chain_which_the_admin_APIs_changes_keep_whole()
    {
        var created = await Admin.RegisterAsync();
        var id = created.GetProperty("agentId").GetString();
        using (var generated = await Admin.PostAsJsonAsync($"/api/v1/agents/{id}/credentials", new { }))
        {
            var credentialId = (await generated.JsonAsync()).GetProperty("credentialId").GetString();
            using (await Admin.PostAsync($"/api/v1/agents/{id}/credentials/{credentialId}/rotate", null)) { }
            using (await Admin.DeleteAsync($"/api/v1/agents/{id}/credentials/{credentialId}")) { }
            using (await Admin.DeleteAsync($"/api/v1/agents/{id}/credentials/{credentialId}")) { } // refused: a failure event of its own
        }
        using (await Admin.DeleteAsync($"/api/v1/agents/{id}")) { }

        var events = await EventsAsync($"?agentId={id}");

        Assert.Equal(6, events.Count);
        await using (var db = fixture.Data.Open())
        {
            foreach (var e in events)
            {
                var stored = await db.AuditEvents.SingleAsync(s => s.Id == Guid.Parse(e.GetProperty("eventId").GetString()!));
                Assert.Equal(stored.Sequence, e.GetProperty("sequence").GetInt64());
                Assert.Equal(AuditChain.ToHex(stored.Hash), e.GetProperty("hash").GetString());
            }
        }
        // The whole log, the AuthServer's events of the other tests included, verifies as it stands.
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Data.ConnectionString);
        var verification = await new AuditChainVerifier(dataSource).VerifyAsync([], CancellationToken.None);
        Assert.True(verification.Intact, verification.Fault?.Reason);
    }

    [Fact]
    public async Task The_AuthServers_events_are_in_the_same_log()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        var issued = await TestData.EventuallyAsync(async () =>
            (await EventsAsync($"?agentId={agent.Id}&action=token.issued")) is { Count: 1 } found ? found : null);

        Assert.Equal(agent.Id.ToString(), issued[0].GetProperty("actor").GetString());
        Assert.Equal(credential.Credential.Id.ToString(), issued[0].GetProperty("details").GetProperty("credentialId").GetString());
    }

    [Fact]
    public async Task Events_filter_by_action_outcome_and_time()
    {
        var email = $"audit-{Guid.NewGuid():N}@example.com";
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Admin.RegisterAsync(AdminApiRequests.NewAgent(email));
        using (await Admin.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent(email))) { }
        var end = DateTimeOffset.UtcNow.AddSeconds(1);
        var window = $"from={Uri.EscapeDataString(start.ToString("O"))}&to={Uri.EscapeDataString(end.ToString("O"))}";

        var failures = await EventsAsync($"?action=agent.created&outcome=failure&{window}");
        var successes = await EventsAsync($"?action=agent.created&outcome=success&{window}");
        var before = await EventsAsync($"?action=agent.created&to={Uri.EscapeDataString(start.ToString("O"))}");

        Assert.Contains(failures, e => e.GetProperty("details").GetRawText().Contains(email, StringComparison.Ordinal));
        Assert.All(failures, e => Assert.Equal("failure", e.GetProperty("outcome").GetString()));
        Assert.Contains(successes, e => e.GetProperty("details").GetProperty("email").GetString() == email);
        Assert.DoesNotContain(before, e => e.GetProperty("details").GetRawText().Contains(email, StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_event_is_read_by_its_id()
    {
        var created = await Admin.RegisterAsync();
        var listed = (await EventsAsync($"?agentId={created.GetProperty("agentId").GetString()}")).Single();
        var id = listed.GetProperty("eventId").GetString();

        using var found = await Admin.GetAsync($"/api/v1/audit/{id}");
        using var missing = await Admin.GetAsync($"/api/v1/audit/{Guid.NewGuid()}");
        using var malformed = await Admin.GetAsync("/api/v1/audit/42");

        Assert.Equal(listed.GetRawText(), (await found.JsonAsync()).GetRawText());
        await missing.ProblemAsync(HttpStatusCode.NotFound, "AUDIT_EVENT_NOT_FOUND");
        Assert.Equal(["eventId"], await malformed.ValidationErrorsAsync());
    }

    [Theory]
    [InlineData("?agentId=nope", "agentId")]
    [InlineData("?action=agent.exploded", "action")]
    [InlineData("?outcome=maybe", "outcome")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to")]
    [InlineData("?limit=1000", "limit")]
    public async Task Bad_filters_are_validation_errors(string query, string field)
    {
        using var response = await Admin.GetAsync("/api/v1/audit" + query);

        Assert.Equal([field], await response.ValidationErrorsAsync());
    }

    [Fact]
    public async Task Reading_the_audit_log_needs_audit_read()
    {
        var (_, _, client) = await fixture.AgentAsync([AdminCapabilities.AgentsRead, AdminCapabilities.AgentsWrite]);

        using var list = await client.GetAsync("/api/v1/audit");
        using var one = await client.GetAsync($"/api/v1/audit/{Guid.NewGuid()}");

        await list.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await one.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
    }

    [Fact]
    public async Task No_route_changes_or_deletes_an_event()
    {
        var created = await Admin.RegisterAsync();
        var id = (await EventsAsync($"?agentId={created.GetProperty("agentId").GetString()}")).Single().GetProperty("eventId").GetString();

        using var delete = await Admin.DeleteAsync($"/api/v1/audit/{id}");
        using var put = await Admin.PutAsJsonAsync($"/api/v1/audit/{id}", new { outcome = "failure" });
        using var patch = await Admin.PatchAsJsonAsync($"/api/v1/audit/{id}", new { outcome = "failure" });

        Assert.All([delete, put, patch], r => Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode));
        await using var db = fixture.Data.Open();
        Assert.Equal(AuditOutcome.Success, (await db.AuditEvents.SingleAsync(e => e.Id == Guid.Parse(id!))).Outcome);
    }

    [Fact]
    public async Task Audit_pages_do_not_skip_or_repeat_events_written_meanwhile()
    {
        var agent = await Admin.RegisterAsync();
        var id = agent.GetProperty("agentId").GetString();
        for (var i = 0; i < 9; i++)
        {
            using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { version = $"1.0.{i + 1}" })) { }
        }
        var all = (await EventsAsync($"?agentId={id}&limit=200")).Select(e => e.GetProperty("eventId").GetString()).ToList();

        var seen = new List<string?>();
        string? cursor = null;
        do
        {
            using var response = await Admin.GetAsync($"/api/v1/audit?agentId={id}&limit=4" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            var page = await response.JsonAsync();
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()));
            cursor = page.GetProperty("nextCursor").GetString();
            using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { version = $"2.0.{seen.Count}" })) { }
        }
        while (cursor is not null);

        Assert.Equal(all, seen);
    }
}
