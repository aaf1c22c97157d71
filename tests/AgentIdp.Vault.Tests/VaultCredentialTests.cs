using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Cli;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Vault.Tests;

/// <summary>Vault mode end to end, through both services and PostgreSQL; run against every configured Vault.</summary>
public sealed class VaultCredentialTests
{
    private static async Task<bool> AuthenticatesAsync(VaultEnvironment env, Guid agentId, string secret)
    {
        using var response = await env.OAuth.RequestTokenAsync(agentId.ToString(), secret);
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static async Task<JsonElement> GenerateAsync(VaultEnvironment env, Guid agentId)
    {
        using var response = await env.Admin.PostAsJsonAsync($"/api/v1/agents/{agentId}/credentials", new { });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync() +
            string.Join('\n', env.AdminApi.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => e.Message + e.Exception)));
        return await response.JsonAsync();
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task A_credential_created_in_Vault_mode_lives_at_its_path_with_only_the_path_in_PostgreSQL(string target)
    {
        await using var env = await VaultEnvironment.StartAsync(await VaultTargets.GetAsync(target));
        var agent = await env.Data.CreateAgentAsync();

        var credential = await GenerateAsync(env, agent.Id);

        var credentialId = Guid.Parse(credential.GetProperty("credentialId").GetString()!);
        var secret = credential.GetProperty("clientSecret").GetString()!;
        Assert.Equal("vault", credential.GetProperty("storage").GetString());
        // `vault kv get secret/agentidp/agents/<agentId>/credentials/<credentialId>` finds clientSecret.
        var stored = await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agent.Id, credentialId));
        Assert.Equal((1, secret), stored);
        await using (var db = env.Data.Open())
        {
            var row = await db.Credentials.SingleAsync(c => c.Id == credentialId);
            Assert.Equal($"{env.Vault.Mount}/data/agentidp/agents/{agent.Id}/credentials/{credentialId}", row.VaultPath);
            Assert.Equal(1, row.VaultVersion);
            Assert.Null(row.SecretHash);
            Assert.Empty(await db.VaultCleanupQueue.ToListAsync());
            var audit = await db.AuditEvents.SingleAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialGenerated);
            Assert.DoesNotContain(secret[AgentIdp.Core.Secrets.ClientSecret.RandomPartStart..], audit.Details);
        }
        Assert.True(await AuthenticatesAsync(env, agent.Id, secret));
        Assert.False(await AuthenticatesAsync(env, agent.Id, secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')));
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Rotating_writes_a_new_version_at_the_same_path_and_only_it_authenticates(string target)
    {
        await using var env = await VaultEnvironment.StartAsync(await VaultTargets.GetAsync(target));
        var agent = await env.Data.CreateAgentAsync();
        var created = await GenerateAsync(env, agent.Id);
        var credentialId = created.GetProperty("credentialId").GetString()!;
        var oldSecret = created.GetProperty("clientSecret").GetString()!;

        using var response = await env.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}/rotate", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var newSecret = (await response.JsonAsync()).GetProperty("clientSecret").GetString()!;
        Assert.Equal((2, newSecret), await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agent.Id, Guid.Parse(credentialId))));
        await using (var db = env.Data.Open())
        {
            Assert.Equal(2, (await db.Credentials.SingleAsync(c => c.Id == Guid.Parse(credentialId))).VaultVersion);
        }
        Assert.False(await AuthenticatesAsync(env, agent.Id, oldSecret));
        Assert.True(await AuthenticatesAsync(env, agent.Id, newSecret));
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Bcrypt_credentials_keep_working_and_rotating_one_moves_it_to_Vault(string target)
    {
        await using var env = await VaultEnvironment.StartAsync(await VaultTargets.GetAsync(target));
        var agent = await env.Data.CreateAgentAsync();
        var legacy = await env.Data.IssueCredentialAsync(agent.Id); // made as bcrypt mode made them

        Assert.True(await AuthenticatesAsync(env, agent.Id, legacy.ClientSecret));
        using (var list = await env.Admin.GetAsync($"/api/v1/agents/{agent.Id}/credentials"))
        {
            Assert.Equal("bcrypt", (await list.JsonAsync()).GetProperty("data")[0].GetProperty("storage").GetString());
        }

        using var rotate = await env.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{legacy.Credential.Id}/rotate", null);

        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var rotated = await rotate.JsonAsync();
        var secret = rotated.GetProperty("clientSecret").GetString()!;
        Assert.Equal("vault", rotated.GetProperty("storage").GetString());
        await using (var db = env.Data.Open())
        {
            var row = await db.Credentials.SingleAsync(c => c.Id == legacy.Credential.Id);
            Assert.Null(row.SecretHash);
            Assert.Equal($"{env.Vault.Mount}/data/{VaultEnvironment.SecretPath(agent.Id, legacy.Credential.Id)}", row.VaultPath);
            Assert.Equal(2, row.SecretVersion);
            var audit = await db.AuditEvents.SingleAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.CredentialRotated);
            Assert.Contains("\"movedToVault\": true", audit.Details);
        }
        Assert.Equal(secret, (await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agent.Id, legacy.Credential.Id)))?.ClientSecret);
        Assert.False(await AuthenticatesAsync(env, agent.Id, legacy.ClientSecret));
        Assert.True(await AuthenticatesAsync(env, agent.Id, secret));
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Revoking_destroys_every_version(string target)
    {
        await using var env = await VaultEnvironment.StartAsync(await VaultTargets.GetAsync(target));
        var agent = await env.Data.CreateAgentAsync();
        var created = await GenerateAsync(env, agent.Id);
        var credentialId = Guid.Parse(created.GetProperty("credentialId").GetString()!);
        using (await env.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}/rotate", null)) { }

        using var revoke = await env.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}");

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Null(await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agent.Id, credentialId)));
        if (env.Vault is TestServerTarget server)
        {
            Assert.Null(server.Server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId))); // metadata and all
        }
        await using var db = env.Data.Open();
        Assert.Empty(await db.VaultCleanupQueue.ToListAsync());
        using var again = await env.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Decommissioning_destroys_every_Vault_secret_of_the_agent(string target)
    {
        await using var env = await VaultEnvironment.StartAsync(await VaultTargets.GetAsync(target));
        var agent = await env.Data.CreateAgentAsync();
        var first = Guid.Parse((await GenerateAsync(env, agent.Id)).GetProperty("credentialId").GetString()!);
        var second = Guid.Parse((await GenerateAsync(env, agent.Id)).GetProperty("credentialId").GetString()!);
        var legacy = await env.Data.IssueCredentialAsync(agent.Id);

        using var delete = await env.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Null(await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agent.Id, first)));
        Assert.Null(await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agent.Id, second)));
        Assert.False(await AuthenticatesAsync(env, agent.Id, legacy.ClientSecret));
        await using var db = env.Data.Open();
        Assert.All(await db.Credentials.Where(c => c.AgentId == agent.Id).ToListAsync(), c => Assert.Equal(CredentialStatus.Revoked, c.Status));
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Bootstrap_admin_puts_the_admins_secret_in_Vault_too(string target)
    {
        await using var env = await VaultEnvironment.StartAsync(await VaultTargets.GetAsync(target));
        var output = new StringWriter();
        var settings = new Dictionary<string, string?>(env.Settings) { ["DATABASE_URL"] = env.Data.ConnectionString, ["BCRYPT_COST"] = "4" };

        var exit = await AgentIdpCommand.RunAsync(["bootstrap-admin", "--email", $"root-{Guid.NewGuid():N}@example.com", "--owner", "ops"],
            settings, output, new StringWriter());

        Assert.Equal(0, exit);
        using var printed = JsonDocument.Parse(output.ToString());
        var agentId = Guid.Parse(printed.RootElement.GetProperty("agentId").GetString()!);
        var secret = printed.RootElement.GetProperty("clientSecret").GetString()!;
        await using var db = env.Data.Open();
        var credential = await db.Credentials.SingleAsync(c => c.AgentId == agentId);
        Assert.True(credential.IsVaultBacked);
        Assert.Equal(secret, (await env.Vault.KvGetAsync(VaultEnvironment.SecretPath(agentId, credential.Id)))?.ClientSecret);
        Assert.True(await AuthenticatesAsync(env, agentId, secret));
    }
}
