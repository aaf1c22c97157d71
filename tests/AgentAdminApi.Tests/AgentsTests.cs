using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

public sealed class AgentsTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private HttpClient Admin => fixture.Admin;

    [Fact]
    public async Task Registering_an_agent_answers_201_with_the_agent_and_its_location_and_audits_it()
    {
        var email = $"Invoice-Screener-{Guid.NewGuid():N}@Example.com";
        using var response = await Admin.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent(email, ["invoices:read", "invoices:write"]));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var agent = await response.JsonAsync();
        var id = Guid.Parse(agent.GetProperty("agentId").GetString()!);
        Assert.Equal($"/api/v1/agents/{id}", response.Headers.Location?.ToString());
        Assert.Equal(email, agent.GetProperty("email").GetString());
        Assert.Equal("screener", agent.GetProperty("agentType").GetString());
        Assert.Equal("1.0.0", agent.GetProperty("version").GetString());
        Assert.Equal(["invoices:read", "invoices:write"], agent.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("team-payments", agent.GetProperty("owner").GetString());
        Assert.Equal("production", agent.GetProperty("deploymentEnv").GetString());
        Assert.Equal("active", agent.GetProperty("status").GetString());
        Assert.EndsWith("Z", agent.GetProperty("createdAt").GetString());
        Assert.Equal(agent.GetProperty("createdAt").GetString(), agent.GetProperty("updatedAt").GetString());
        Assert.Equal(10, agent.EnumerateObject().Count());

        await using var db = fixture.Data.Open();
        var stored = await db.Agents.SingleAsync(a => a.Id == id);
        Assert.Equal(email, stored.Email);
        var audit = await db.AuditEvents.SingleAsync(e => e.AgentId == id && e.Action == AuditActions.AgentCreated);
        Assert.Equal(AuditOutcome.Success, audit.Outcome);
        Assert.Equal(fixture.AdminAgent.Id.ToString(), audit.Actor);
    }

    [Fact]
    public async Task Every_field_is_checked_and_every_error_named_at_once()
    {
        using var response = await Admin.PostAsJsonAsync("/api/v1/agents", new
        {
            email = "not-an-email",
            agentType = "wizard",
            version = "1.0",
            capabilities = new[] { "invoices", "invoices:read", "invoices:read" },
            owner = new string('o', 129),
            deploymentEnv = "moon",
            colour = "blue",
        });

        var fields = await response.ValidationErrorsAsync();
        Assert.Equal(["agentType", "capabilities[0]", "capabilities[2]", "colour", "deploymentEnv", "email", "owner", "version"], fields.Order());
    }

    [Theory]
    [InlineData("""{"agentType":"screener","version":"1.0.0","capabilities":["a:b"],"owner":"o","deploymentEnv":"staging"}""", "email")]
    [InlineData("""{"email":null,"agentType":"screener","version":"1.0.0","capabilities":["a:b"],"owner":"o","deploymentEnv":"staging"}""", "email")]
    [InlineData("""{"email":42,"agentType":"screener","version":"1.0.0","capabilities":["a:b"],"owner":"o","deploymentEnv":"staging"}""", "email")]
    [InlineData("""{"email":"a@example.com","agentType":1,"version":"1.0.0","capabilities":["a:b"],"owner":"o","deploymentEnv":"staging"}""", "agentType")]
    [InlineData("""{"email":"a@example.com","agentType":"Screener","version":"1.0.0","capabilities":["a:b"],"owner":"o","deploymentEnv":"staging"}""", "agentType")]
    [InlineData("""{"email":"a@example.com","agentType":"screener","version":"1.0.0","capabilities":[],"owner":"o","deploymentEnv":"staging"}""", "capabilities")]
    [InlineData("""{"email":"a@example.com","agentType":"screener","version":"1.0.0","capabilities":"a:b","owner":"o","deploymentEnv":"staging"}""", "capabilities")]
    [InlineData("""{"email":"a@example.com","agentType":"screener","version":"1.0.0","capabilities":[7],"owner":"o","deploymentEnv":"staging"}""", "capabilities[0]")]
    [InlineData("""{"email":"a@example.com","agentType":"screener","version":"1.0.0","capabilities":["a:b"],"owner":"","deploymentEnv":"staging"}""", "owner")]
    [InlineData("""{"email":"a@example.com","agentType":"screener","version":"1.0.0","capabilities":["a:b"],"owner":"o","deploymentEnv":"staging","status":"active"}""", "status")]
    public async Task A_missing_null_mistyped_or_unknown_field_is_a_validation_error_naming_it(string body, string field)
    {
        using var response = await Admin.SendJsonAsync(HttpMethod.Post, "/api/v1/agents", body);

        Assert.Equal([field], await response.ValidationErrorsAsync());
    }

    [Theory]
    [InlineData("{\"email\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("\"just a string\"")]
    [InlineData("{\"email\":\"a@example.com\",\"email\":\"b@example.com\"}")]
    [InlineData("")]
    public async Task A_malformed_body_is_a_validation_error_never_a_500(string body)
    {
        using var response = await Admin.SendJsonAsync(HttpMethod.Post, "/api/v1/agents", body);

        Assert.NotEmpty(await response.ValidationErrorsAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_validation_error()
    {
        using var response = await Admin.PostAsync("/api/v1/agents", new StringContent("email=a@example.com", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(["body"], await response.ValidationErrorsAsync());
    }

    [Fact]
    public async Task An_oversize_body_is_a_validation_error()
    {
        using var response = await Admin.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent(owner: new string('o', 100_000)));

        Assert.Equal(["body"], await response.ValidationErrorsAsync());
    }

    [Fact]
    public async Task An_email_is_taken_whatever_its_case_and_the_refusal_is_audited()
    {
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        await Admin.RegisterAsync(AdminApiRequests.NewAgent(email));

        using var response = await Admin.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent(email.ToUpperInvariant()));

        await response.ProblemAsync(HttpStatusCode.Conflict, "AGENT_ALREADY_EXISTS");
        await using var db = fixture.Data.Open();
        Assert.Equal(1, await db.Agents.WithEmail(email).CountAsync());
        Assert.Contains(await db.AuditEvents.Where(e => e.Action == AuditActions.AgentCreated && e.Outcome == AuditOutcome.Failure).Select(e => e.Details).ToListAsync(),
            details => details.Contains(email.ToUpperInvariant(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_concurrent_registrations_of_one_email_give_one_201_and_one_409()
    {
        var email = $"race-{Guid.NewGuid():N}@example.com";

        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Admin.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent(email))));

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        await responses.Single(r => r.StatusCode == HttpStatusCode.Conflict).ProblemAsync(HttpStatusCode.Conflict, "AGENT_ALREADY_EXISTS");
        await using var db = fixture.Data.Open();
        Assert.Equal(1, await db.Agents.WithEmail(email).CountAsync());
    }

    [Fact]
    public async Task Getting_an_agent_answers_it_or_404_or_400_for_a_non_uuid()
    {
        var created = await Admin.RegisterAsync();
        var id = created.GetProperty("agentId").GetString();

        using var found = await Admin.GetAsync($"/api/v1/agents/{id}");
        using var missing = await Admin.GetAsync($"/api/v1/agents/{Guid.NewGuid()}");
        using var malformed = await Admin.GetAsync("/api/v1/agents/not-a-uuid");

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal(created.GetRawText(), (await found.JsonAsync()).GetRawText());
        await missing.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
        Assert.Equal(["agentId"], await malformed.ValidationErrorsAsync());
    }

    [Fact]
    public async Task An_agent_reads_its_own_record_with_agents_self_without_agents_read_but_not_anothers()
    {
        var (self, _, client) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);

        using var own = await client.GetAsync($"/api/v1/agents/{self.Id}");
        using var other = await client.GetAsync($"/api/v1/agents/{fixture.AdminAgent.Id}");
        using var list = await client.GetAsync("/api/v1/agents");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        await other.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await list.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
    }

    [Fact]
    public async Task Reading_needs_agents_read_and_writing_needs_agents_write()
    {
        var (_, _, reader) = await fixture.AgentAsync([AdminCapabilities.AgentsRead]);
        var target = await Admin.RegisterAsync();
        var id = target.GetProperty("agentId").GetString();

        using var list = await reader.GetAsync("/api/v1/agents");
        using var create = await reader.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent());
        using var patch = await reader.PatchAsJsonAsync($"/api/v1/agents/{id}", new { owner = "x" });
        using var delete = await reader.DeleteAsync($"/api/v1/agents/{id}");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        await create.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await patch.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await delete.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        await using var db = fixture.Data.Open();
        Assert.Equal("team-payments", (await db.Agents.SingleAsync(a => a.Id == Guid.Parse(id!))).Owner);
        Assert.True(await db.AuditEvents.AnyAsync(e => e.Action == AuditActions.AgentDecommissioned && e.Outcome == AuditOutcome.Failure && e.AgentId == Guid.Parse(id!)));
    }

    [Fact]
    public async Task Patching_changes_only_the_given_fields_and_records_which()
    {
        var created = await Admin.RegisterAsync();
        var id = Guid.Parse(created.GetProperty("agentId").GetString()!);

        using var response = await Admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { version = "2.0.0", capabilities = new[] { "reports:read" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var agent = await response.JsonAsync();
        Assert.Equal("2.0.0", agent.GetProperty("version").GetString());
        Assert.Equal(["reports:read"], agent.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(created.GetProperty("email").GetString(), agent.GetProperty("email").GetString());
        Assert.Equal(created.GetProperty("owner").GetString(), agent.GetProperty("owner").GetString());
        Assert.True(DateTime.Parse(agent.GetProperty("updatedAt").GetString()!) > DateTime.Parse(agent.GetProperty("createdAt").GetString()!));
        await using var db = fixture.Data.Open();
        var updated = await db.AuditEvents.SingleAsync(e => e.AgentId == id && e.Action == AuditActions.AgentUpdated);
        using var details = JsonDocument.Parse(updated.Details);
        Assert.Equal(["capabilities", "version"], details.RootElement.GetProperty("changed").EnumerateArray().Select(c => c.GetString()).Order());
    }

    [Fact]
    public async Task Suspending_and_reactivating_are_their_own_audited_moves()
    {
        var (agent, secret, client) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);

        using var suspend = await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { status = "suspended" });
        Assert.Equal("suspended", (await suspend.JsonAsync()).GetProperty("status").GetString());
        // A suspended agent's token stops working, and it gets no new one.
        using var refused = await client.GetAsync($"/api/v1/agents/{agent.Id}");
        await refused.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        using (var token = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
        }

        using var reactivate = await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { status = "active" });
        Assert.Equal("active", (await reactivate.JsonAsync()).GetProperty("status").GetString());
        using (var token = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), secret))
        {
            Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        }

        await using var db = fixture.Data.Open();
        var actions = await db.AuditEvents.Where(e => e.AgentId == agent.Id && e.Outcome == AuditOutcome.Success).Select(e => e.Action).ToListAsync();
        Assert.Contains(AuditActions.AgentSuspended, actions);
        Assert.Contains(AuditActions.AgentReactivated, actions);
        Assert.DoesNotContain(AuditActions.AgentUpdated, actions);
    }

    [Fact]
    public async Task Narrowing_an_agents_capabilities_ends_its_tokens_and_a_suspension_ends_them_for_good()
    {
        var (agent, secret, client) = await fixture.AgentAsync([AdminCapabilities.AgentsRead, "invoices:read"]);
        using (var before = await client.GetAsync("/api/v1/agents"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { capabilities = new[] { "invoices:read" } })) { }
        using var narrowed = await client.GetAsync($"/api/v1/agents/{agent.Id}");

        await narrowed.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        var fresh = await fixture.ClientAsync(agent.Id, secret, scope: AdminCapabilities.AgentsSelf);
        using (var own = await fresh.GetAsync($"/api/v1/agents/{agent.Id}"))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { status = "suspended" })) { }
        using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { status = "active" })) { }
        using var revived = await fresh.GetAsync($"/api/v1/agents/{agent.Id}");

        await revived.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED"); // reactivation does not bring back older tokens
        var afterwards = await fixture.ClientAsync(agent.Id, secret, scope: AdminCapabilities.AgentsSelf);
        using var works = await afterwards.GetAsync($"/api/v1/agents/{agent.Id}");
        Assert.Equal(HttpStatusCode.OK, works.StatusCode);
    }

    [Theory]
    [InlineData("""{"owner":"team\u0000x"}""", "owner")]
    [InlineData("""{"status":"decommissioned"}""", "status")]
    [InlineData("""{"status":"paused"}""", "status")]
    [InlineData("""{"owner":null}""", "owner")]
    [InlineData("""{"agentId":"00000000-0000-0000-0000-000000000000"}""", "agentId")]
    [InlineData("""{"version":"v2"}""", "version")]
    public async Task A_patch_is_validated_like_a_registration(string body, string field)
    {
        var created = await Admin.RegisterAsync();

        using var response = await Admin.SendJsonAsync(HttpMethod.Patch, $"/api/v1/agents/{created.GetProperty("agentId").GetString()}", body);

        Assert.Equal([field], await response.ValidationErrorsAsync());
    }

    [Fact]
    public async Task An_empty_patch_changes_nothing()
    {
        var created = await Admin.RegisterAsync();
        var id = Guid.Parse(created.GetProperty("agentId").GetString()!);

        using var response = await Admin.SendJsonAsync(HttpMethod.Patch, $"/api/v1/agents/{id}", "{}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(created.GetRawText(), (await response.JsonAsync()).GetRawText());
        await using var db = fixture.Data.Open();
        Assert.Equal(1, await db.AuditEvents.CountAsync(e => e.AgentId == id));
    }

    [Fact]
    public async Task Patching_to_a_taken_email_is_409()
    {
        var first = await Admin.RegisterAsync();
        var second = await Admin.RegisterAsync();

        using var response = await Admin.PatchAsJsonAsync($"/api/v1/agents/{second.GetProperty("agentId").GetString()}",
            new { email = first.GetProperty("email").GetString()!.ToUpperInvariant() });

        await response.ProblemAsync(HttpStatusCode.Conflict, "AGENT_ALREADY_EXISTS");
    }

    [Fact]
    public async Task Patching_or_deleting_an_unknown_agent_is_404()
    {
        using var patch = await Admin.PatchAsJsonAsync($"/api/v1/agents/{Guid.NewGuid()}", new { owner = "x" });
        using var delete = await Admin.DeleteAsync($"/api/v1/agents/{Guid.NewGuid()}");

        await patch.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
        await delete.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
    }

    [Fact]
    public async Task Decommissioning_revokes_every_credential_in_the_same_transaction_and_is_final()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var first = await fixture.Data.IssueCredentialAsync(agent.Id);
        var second = await fixture.Data.IssueCredentialAsync(agent.Id);

        using var delete = await Admin.DeleteAsync($"/api/v1/agents/{agent.Id}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await using (var db = fixture.Data.Open())
        {
            Assert.Equal(AgentStatus.Decommissioned, (await db.Agents.SingleAsync(a => a.Id == agent.Id)).Status);
            var credentials = await db.Credentials.Where(c => c.AgentId == agent.Id).ToListAsync();
            Assert.All(credentials, c => Assert.Equal(CredentialStatus.Revoked, c.Status));
            Assert.All(credentials, c => Assert.NotNull(c.RevokedAt));
            var actions = await db.AuditEvents.Where(e => e.AgentId == agent.Id).Select(e => e.Action).ToListAsync();
            Assert.Equal(1, actions.Count(a => a == AuditActions.AgentDecommissioned));
            Assert.Equal(2, actions.Count(a => a == AuditActions.CredentialRevoked));
        }
        foreach (var issued in new[] { first, second })
        {
            using var token = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), issued.ClientSecret);
            Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
        }

        using var again = await Admin.DeleteAsync($"/api/v1/agents/{agent.Id}");
        using var patch = await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { status = "active" });
        using var credential = await Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        using var get = await Admin.GetAsync($"/api/v1/agents/{agent.Id}");

        await again.ProblemAsync(HttpStatusCode.Conflict, "AGENT_ALREADY_DECOMMISSIONED");
        await patch.ProblemAsync(HttpStatusCode.Conflict, "AGENT_ALREADY_DECOMMISSIONED");
        await credential.ProblemAsync(HttpStatusCode.Conflict, "AGENT_ALREADY_DECOMMISSIONED");
        Assert.Equal("decommissioned", (await get.JsonAsync()).GetProperty("status").GetString());
    }
}
