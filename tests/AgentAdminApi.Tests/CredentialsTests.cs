using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

public sealed class CredentialsTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private HttpClient Admin => fixture.Admin;

    private async Task<bool> AuthenticatesAsync(Guid agentId, string secret)
    {
        using var response = await fixture.OAuth.RequestTokenAsync(agentId.ToString(), secret);
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static string Path(Guid agentId, string rest = "") => $"/api/v1/agents/{agentId}/credentials{rest}";

    [Fact]
    public async Task Generating_a_credential_shows_its_secret_once_and_the_secret_works()
    {
        var agent = await fixture.Data.CreateAgentAsync();

        using var response = await Admin.PostAsJsonAsync(Path(agent.Id), new { });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var credential = await response.JsonAsync();
        var id = Guid.Parse(credential.GetProperty("credentialId").GetString()!);
        var secret = credential.GetProperty("clientSecret").GetString()!;
        Assert.StartsWith($"aidp_{id:N}_", secret);
        Assert.Equal(agent.Id.ToString(), credential.GetProperty("clientId").GetString());
        Assert.Equal("active", credential.GetProperty("status").GetString());
        Assert.Equal("bcrypt", credential.GetProperty("storage").GetString());
        Assert.Equal(JsonValueKind.Null, credential.GetProperty("expiresAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, credential.GetProperty("lastUsedAt").ValueKind);
        Assert.True(await AuthenticatesAsync(agent.Id, secret));

        using var list = await Admin.GetAsync(Path(agent.Id));
        var listed = await list.Content.ReadAsStringAsync();
        Assert.Contains(id.ToString(), listed);
        Assert.DoesNotContain("clientSecret", listed);
        Assert.DoesNotContain(secret[ClientSecret.RandomPartStart..], listed);
        Assert.DoesNotContain("$2", listed);
        await using var db = fixture.Data.Open();
        var audit = await db.AuditEvents.SingleAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialGenerated);
        Assert.Contains(id.ToString(), audit.Details);
        Assert.DoesNotContain(secret[ClientSecret.RandomPartStart..], audit.Details);
    }

    [Fact]
    public async Task A_credential_may_expire_at_a_future_time()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var expiresAt = DateTimeOffset.UtcNow.AddDays(30);

        using var response = await Admin.PostAsJsonAsync(Path(agent.Id), new { expiresAt = expiresAt.ToString("yyyy-MM-ddTHH:mm:ssZ") });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var credential = await response.JsonAsync();
        Assert.Equal(expiresAt.ToString("yyyy-MM-ddTHH:mm:ss") + "Z", credential.GetProperty("expiresAt").GetString());
    }

    [Fact]
    public async Task An_empty_body_is_allowed()
    {
        var agent = await fixture.Data.CreateAgentAsync();

        using var response = await Admin.PostAsync(Path(agent.Id), null);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    [InlineData("""{"expiresAt":"next tuesday"}""", "expiresAt")]
    [InlineData("""{"expiresAt":"2099-01-01T00:00:00"}""", "expiresAt")]
    [InlineData("""{"expiresAt":12345}""", "expiresAt")]
    [InlineData("""{"expiresAt":null}""", "expiresAt")]
    [InlineData("""{"expires":"2099-01-01T00:00:00Z"}""", "expires")]
    [InlineData("""[]""", "body")]
    public async Task A_bad_expiry_or_unknown_field_is_a_validation_error(string body, string field)
    {
        var agent = await fixture.Data.CreateAgentAsync();

        using var response = await Admin.SendJsonAsync(HttpMethod.Post, Path(agent.Id), body);

        Assert.Equal([field], await response.ValidationErrorsAsync());
        await using var db = fixture.Data.Open();
        Assert.Equal(0, await db.Credentials.CountAsync(c => c.AgentId == agent.Id));
    }

    [Fact]
    public async Task Rotating_replaces_the_secret_at_once_and_ends_the_old_secrets_tokens()
    {
        var (agent, oldSecret, client) = await fixture.AgentAsync(["invoices:read", AdminCapabilities.TokensRead], scope: AdminCapabilities.AgentsSelf);
        var credentialId = (await fixture.Data.Open().Credentials.SingleAsync(c => c.AgentId == agent.Id)).Id;
        var oldToken = await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), oldSecret);

        using var response = await Admin.PostAsync(Path(agent.Id, $"/{credentialId}/rotate"), null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = await response.JsonAsync();
        var newSecret = rotated.GetProperty("clientSecret").GetString()!;
        Assert.Equal(credentialId.ToString(), rotated.GetProperty("credentialId").GetString());
        Assert.NotEqual(oldSecret, newSecret);
        Assert.NotEqual(JsonValueKind.Null, rotated.GetProperty("rotatedAt").ValueKind);
        Assert.False(await AuthenticatesAsync(agent.Id, oldSecret));
        Assert.True(await AuthenticatesAsync(agent.Id, newSecret));
        using var withOldToken = await client.GetAsync($"/api/v1/agents/{agent.Id}");
        await withOldToken.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        using var introspection = await fixture.OAuth.IntrospectAsync(agent.Id.ToString(), newSecret, oldToken);
        Assert.False((await introspection.JsonAsync()).GetProperty("active").GetBoolean());
        await using var db = fixture.Data.Open();
        Assert.True(await db.AuditEvents.AnyAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialRotated));
    }

    [Fact]
    public async Task Two_concurrent_rotations_leave_exactly_one_valid_secret()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var original = await fixture.Data.IssueCredentialAsync(agent.Id);

        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            Admin.PostAsync(Path(agent.Id, $"/{original.Credential.Id}/rotate"), null)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var secrets = await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).GetProperty("clientSecret").GetString()!));
        var valid = new List<string>();
        foreach (var secret in secrets.Append(original.ClientSecret))
        {
            if (await AuthenticatesAsync(agent.Id, secret))
            {
                valid.Add(secret);
            }
        }
        Assert.Single(valid);
        await using var db = fixture.Data.Open();
        Assert.Equal(3, (await db.Credentials.SingleAsync(c => c.Id == original.Credential.Id)).SecretVersion);
    }

    [Fact]
    public async Task Revoking_ends_the_credential_and_a_second_revoke_is_409()
    {
        var (agent, secret, client) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);
        var credentialId = (await fixture.Data.Open().Credentials.SingleAsync(c => c.AgentId == agent.Id)).Id;

        using var revoke = await Admin.DeleteAsync(Path(agent.Id, $"/{credentialId}"));
        using var again = await Admin.DeleteAsync(Path(agent.Id, $"/{credentialId}"));
        using var rotate = await Admin.PostAsync(Path(agent.Id, $"/{credentialId}/rotate"), null);

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await again.ProblemAsync(HttpStatusCode.Conflict, "CREDENTIAL_ALREADY_REVOKED");
        await rotate.ProblemAsync(HttpStatusCode.Conflict, "CREDENTIAL_ALREADY_REVOKED");
        Assert.False(await AuthenticatesAsync(agent.Id, secret));
        using var withToken = await client.GetAsync($"/api/v1/agents/{agent.Id}");
        await withToken.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        using var list = await Admin.GetAsync(Path(agent.Id));
        var listed = (await list.JsonAsync()).GetProperty("data").EnumerateArray().Single();
        Assert.Equal("revoked", listed.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("revokedAt").ValueKind);
        await using var db = fixture.Data.Open();
        Assert.True(await db.AuditEvents.AnyAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialRevoked && e.Outcome == AuditOutcome.Success));
        Assert.True(await db.AuditEvents.AnyAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialRevoked && e.Outcome == AuditOutcome.Failure));
    }

    [Fact]
    public async Task An_agent_manages_its_own_credentials_with_agents_self_without_agents_write()
    {
        var (agent, _, client) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);

        using var generate = await client.PostAsJsonAsync(Path(agent.Id), new { });
        var created = await generate.JsonAsync();
        var id = created.GetProperty("credentialId").GetString();
        using var list = await client.GetAsync(Path(agent.Id));
        using var rotate = await client.PostAsync(Path(agent.Id, $"/{id}/rotate"), null);
        var newSecret = (await rotate.JsonAsync()).GetProperty("clientSecret").GetString()!;
        using var revoke = await client.DeleteAsync(Path(agent.Id, $"/{id}"));

        Assert.Equal(HttpStatusCode.Created, generate.StatusCode);
        Assert.Equal(2, (await list.JsonAsync()).GetProperty("data").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.False(await AuthenticatesAsync(agent.Id, newSecret));
        await using var db = fixture.Data.Open();
        Assert.Equal(agent.Id.ToString(), (await db.AuditEvents.FirstAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialGenerated)).Actor);
    }

    [Fact]
    public async Task An_agent_cannot_touch_another_agents_credentials_even_with_agents_self()
    {
        var (_, _, client) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);
        var victim = await fixture.Data.CreateAgentAsync();
        var credential = await fixture.Data.IssueCredentialAsync(victim.Id);

        using var generate = await client.PostAsJsonAsync(Path(victim.Id), new { });
        using var list = await client.GetAsync(Path(victim.Id));
        using var rotate = await client.PostAsync(Path(victim.Id, $"/{credential.Credential.Id}/rotate"), null);
        using var revoke = await client.DeleteAsync(Path(victim.Id, $"/{credential.Credential.Id}"));

        foreach (var response in new[] { generate, list, rotate, revoke })
        {
            await response.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN");
        }
        Assert.True(await AuthenticatesAsync(victim.Id, credential.ClientSecret));
    }

    [Fact]
    public async Task Unknown_agents_and_credentials_are_404_and_malformed_ids_400()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var other = await fixture.Data.CreateAgentAsync();
        var othersCredential = await fixture.Data.IssueCredentialAsync(other.Id);

        using var noAgent = await Admin.PostAsJsonAsync(Path(Guid.NewGuid()), new { });
        using var noAgentList = await Admin.GetAsync(Path(Guid.NewGuid()));
        using var noCredential = await Admin.PostAsync(Path(agent.Id, $"/{Guid.NewGuid()}/rotate"), null);
        using var wrongAgent = await Admin.DeleteAsync(Path(agent.Id, $"/{othersCredential.Credential.Id}"));
        using var badId = await Admin.DeleteAsync(Path(agent.Id, "/not-a-uuid"));

        await noAgent.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
        await noAgentList.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
        await noCredential.ProblemAsync(HttpStatusCode.NotFound, "CREDENTIAL_NOT_FOUND");
        await wrongAgent.ProblemAsync(HttpStatusCode.NotFound, "CREDENTIAL_NOT_FOUND");
        Assert.Equal(["credentialId"], await badId.ValidationErrorsAsync());
        Assert.True(await AuthenticatesAsync(other.Id, othersCredential.ClientSecret));
    }

    [Fact]
    public async Task An_expired_credential_is_listed_as_expired_and_is_not_rotated()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var expired = await fixture.Data.IssueCredentialAsync(agent.Id, DateTimeOffset.UtcNow.AddSeconds(-5));

        using var list = await Admin.GetAsync(Path(agent.Id));
        using var rotate = await Admin.PostAsync(Path(agent.Id, $"/{expired.Credential.Id}/rotate"), null);

        Assert.Equal("expired", (await list.JsonAsync()).GetProperty("data")[0].GetProperty("status").GetString());
        Assert.Equal(["credentialId"], await rotate.ValidationErrorsAsync());
    }

    [Fact]
    public async Task A_suspended_agent_still_gets_credentials_from_an_admin_but_they_work_only_once_it_is_active()
    {
        var agent = await fixture.Data.CreateAgentAsync(status: AgentStatus.Suspended);

        using var response = await Admin.PostAsJsonAsync(Path(agent.Id), new { });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var secret = (await response.JsonAsync()).GetProperty("clientSecret").GetString()!;
        Assert.False(await AuthenticatesAsync(agent.Id, secret));
        using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{agent.Id}", new { status = "active" })) { }
        Assert.True(await AuthenticatesAsync(agent.Id, secret));
    }
}
