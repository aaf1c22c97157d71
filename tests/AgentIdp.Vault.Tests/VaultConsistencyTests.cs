using System.Net;
using System.Net.Http.Json;
using AgentAdminApi.Credentials;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Vault;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentIdp.Vault.Tests;

/// <summary>
/// Each failure point of a Vault-backed write: Vault fails (VaultFailureTests), PostgreSQL fails after the
/// Vault write, the process dies between the two, the cleanup pass races a request. None may leave a secret
/// the caller holds that does not authenticate, or a Vault secret nothing names once a cleanup pass ran.
/// </summary>
public sealed class VaultConsistencyTests : IAsyncLifetime
{
    private VaultTestServer _server = null!;
    private VaultEnvironment _env = null!;

    public async Task InitializeAsync()
    {
        _server = await VaultTestServer.StartAsync();
        _env = await VaultEnvironment.StartAsync(new TestServerTarget(_server));
    }

    public async Task DisposeAsync()
    {
        await _env.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task<int> CleanupPassAsync() =>
        _env.AdminApi.Services.GetRequiredService<VaultCleanupPass>().RunOnceAsync(TimeSpan.Zero, CancellationToken.None);

    private async Task<int> QueuedAsync()
    {
        await using var db = _env.Data.Open();
        return await db.VaultCleanupQueue.CountAsync();
    }

    private async Task FailNextCredentialWritesAsync(string operation)
    {
        await using var db = _env.Data.Open();
#pragma warning disable EF1002 // the operation is one of this file's own constants, not input
        await db.Database.ExecuteSqlRawAsync($"""
            CREATE FUNCTION fail_credential_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'simulated database failure'; END; $$;
            CREATE TRIGGER fail_credential_write BEFORE {operation} ON credentials FOR EACH ROW EXECUTE FUNCTION fail_credential_write();
            """);
#pragma warning restore EF1002
    }

    [Fact]
    public async Task PostgreSQL_failing_after_the_Vault_write_shows_no_secret_and_the_cleanup_pass_destroys_what_was_written()
    {
        var agent = await _env.Data.CreateAgentAsync();
        await FailNextCredentialWritesAsync("INSERT");

        using var response = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("aidp_", await response.Content.ReadAsStringAsync());
        var written = _server.Requests.Single(r => r.Method == "POST" && r.Path.Contains($"/agents/{agent.Id}/credentials/", StringComparison.Ordinal));
        var path = written.Path["/v1/secret/data/".Length..];
        Assert.NotNull(_server.Get("secret", path)); // in Vault, named by no credential, but queued
        Assert.Equal(1, await QueuedAsync());

        Assert.Equal(1, await CleanupPassAsync());

        Assert.Null(_server.Get("secret", path));
        Assert.Equal(0, await QueuedAsync());
    }

    [Fact]
    public async Task PostgreSQL_failing_after_a_rotations_Vault_write_leaves_the_old_secret_working()
    {
        var agent = await _env.Data.CreateAgentAsync();
        using var created = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        var body = await created.JsonAsync();
        var credentialId = Guid.Parse(body.GetProperty("credentialId").GetString()!);
        var secret = body.GetProperty("clientSecret").GetString()!;
        await FailNextCredentialWritesAsync("UPDATE");

        using var rotate = await _env.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}/rotate", null);

        Assert.Equal(HttpStatusCode.InternalServerError, rotate.StatusCode);
        Assert.Equal(2, _server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId))!.CurrentVersion); // written, never named
        using (var token = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), secret))
        {
            Assert.Equal(HttpStatusCode.OK, token.StatusCode); // version 1 is the one the row names
        }
        await CleanupPassAsync();
        Assert.NotNull(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId))); // an active credential names the path: kept
        Assert.Equal(0, await QueuedAsync());
    }

    [Fact]
    public async Task A_process_that_dies_between_the_Vault_write_and_the_commit_leaves_nothing_after_a_cleanup_pass()
    {
        var agent = await _env.Data.CreateAgentAsync();
        var credentialId = Guid.NewGuid();
        await using (var scope = _env.AdminApi.Services.CreateAsyncScope())
        {
            // Queue, write to Vault... and never reach the commit, nor any cleanup of its own.
            _ = await scope.ServiceProvider.GetRequiredService<CredentialSecrets>().WriteNewAsync(agent.Id, credentialId, CancellationToken.None);
        }
        Assert.NotNull(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId)));
        Assert.Equal(1, await QueuedAsync());

        var tooEarly = await _env.AdminApi.Services.GetRequiredService<VaultCleanupPass>().RunOnceAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        Assert.Equal(0, tooEarly); // within the grace period it might still be a request at work
        Assert.Equal(1, await CleanupPassAsync());

        Assert.Null(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId)));
        Assert.Equal(0, await QueuedAsync());
    }

    [Fact]
    public async Task A_request_whose_secret_the_cleanup_pass_destroyed_fails_instead_of_showing_it()
    {
        var agent = await _env.Data.CreateAgentAsync();
        var credentialId = Guid.NewGuid();
        await using var scope = _env.AdminApi.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentIdpDbContext>();
        await using var write = await scope.ServiceProvider.GetRequiredService<CredentialSecrets>().WriteNewAsync(agent.Id, credentialId, CancellationToken.None);

        await CleanupPassAsync(); // a pass that judged the request dead

        await using var transaction = await db.Database.BeginTransactionAsync();
        var credential = new Credential { Id = credentialId, AgentId = agent.Id, CreatedAt = DateTimeOffset.UtcNow };
        await Assert.ThrowsAsync<VaultException>(() => write.ApplyAsync(credential, CancellationToken.None));
        Assert.Null(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId)));
    }

    [Fact]
    public async Task An_entry_Vault_refuses_goes_to_the_back_and_does_not_hold_up_the_others()
    {
        _server.MountKv("locked"); // AgentIdP's token may not touch it: destroying there is refused
        await using (var scope = _env.AdminApi.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<VaultCleanupQueue>().EnqueueAsync("locked/data/agentidp/agents/a/credentials/b", CancellationToken.None);
        }
        _server.Put("locked", "agentidp/agents/a/credentials/b", new Dictionary<string, string> { ["clientSecret"] = "stuck" });
        var agent = await _env.Data.CreateAgentAsync();
        using var created = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        var credentialId = Guid.Parse((await created.JsonAsync()).GetProperty("credentialId").GetString()!);
        _server.Fault = VaultFault.Forbidden;
        using (await _env.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}")) { } // revoked; destroying it is refused for now
        _server.Fault = VaultFault.None;
        Assert.Equal(2, await QueuedAsync());

        Assert.Equal(1, await CleanupPassAsync());

        Assert.Null(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, credentialId)));
        Assert.NotNull(_server.Get("locked", "agentidp/agents/a/credentials/b"));
        Assert.Equal(1, await QueuedAsync()); // the refused one waits for a later pass
    }

    [Fact]
    public async Task A_failed_write_settles_at_once_when_it_can()
    {
        var agent = await _env.Data.CreateAgentAsync();
        _server.Fault = VaultFault.Forbidden; // refused: no retries, no circuit breaker involved

        using var response = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        _server.Fault = VaultFault.None;

        Assert.Equal("VAULT_WRITE_ERROR", (await response.JsonAsync()).GetProperty("code").GetString());
        // The destroy attempt was refused as well, so the entry waits for the pass; with Vault back, the pass clears it.
        Assert.Equal(1, await QueuedAsync());
        Assert.Equal(1, await CleanupPassAsync());
        await using var db = _env.Data.Open();
        Assert.Equal(0, await db.Credentials.CountAsync(c => c.AgentId == agent.Id));
    }
}
