using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentIdp.Vault.Tests;

/// <summary>What happens when Vault is away, sealed, refusing or slow: the test server can be told to be each.</summary>
public sealed class VaultFailureTests : IAsyncLifetime
{
    private VaultTestServer _server = null!;
    private VaultEnvironment _env = null!;

    public async Task InitializeAsync()
    {
        _server = await VaultTestServer.StartAsync();
        _server.SlowDelay = TimeSpan.FromSeconds(30);
        _env = await VaultEnvironment.StartAsync(new TestServerTarget(_server));
    }

    public async Task DisposeAsync()
    {
        await _env.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData(VaultFault.Down)]
    [InlineData(VaultFault.Sealed)]
    [InlineData(VaultFault.Forbidden)]
    [InlineData(VaultFault.Slow)]
    public async Task A_credential_write_fails_with_VAULT_WRITE_ERROR_in_bounded_time_and_changes_nothing(VaultFault fault)
    {
        var agent = await _env.Data.CreateAgentAsync();
        var vaultBacked = await CreateVaultCredentialAsync(agent.Id);
        _server.Fault = fault;

        var watch = Stopwatch.StartNew();
        using var generate = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        using var rotate = await _env.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{vaultBacked.Id}/rotate", null);
        watch.Stop();
        _server.Fault = VaultFault.None;

        foreach (var response in new[] { generate, rotate })
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var problem = await response.JsonAsync();
            Assert.Equal("VAULT_WRITE_ERROR", problem.GetProperty("code").GetString());
            Assert.DoesNotContain("aidp_", await response.Content.ReadAsStringAsync());
        }
        // VAULT_TIMEOUT is 2 s here: two calls well within the 30 s the slow Vault would take.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(12), $"took {watch.Elapsed}");
        await using var db = _env.Data.Open();
        var credentials = await db.Credentials.Where(c => c.AgentId == agent.Id).ToListAsync();
        var only = Assert.Single(credentials);
        Assert.Equal(1, only.VaultVersion); // the rotation changed nothing
        Assert.True(await AuthenticatesAsync(agent.Id, vaultBacked.Secret));
    }

    [Theory]
    [InlineData(VaultFault.Down)]
    [InlineData(VaultFault.Sealed)]
    [InlineData(VaultFault.Forbidden)]
    public async Task Vault_backed_tokens_fail_with_VAULT_READ_ERROR_while_bcrypt_ones_keep_working_and_all_recover(VaultFault fault)
    {
        var agent = await _env.Data.CreateAgentAsync();
        var vaultBacked = await CreateVaultCredentialAsync(agent.Id);
        var bcrypt = await _env.Data.IssueCredentialAsync(agent.Id);
        _server.Fault = fault;

        using var failed = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), vaultBacked.Secret);
        using var working = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), bcrypt.ClientSecret);
        using var ready = await _env.AdminApi.CreateClient().GetAsync("/health/ready");
        using var authReady = await _env.AuthServer.CreateClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var error = await failed.JsonAsync();
        Assert.Equal("server_error", error.GetProperty("error").GetString());
        Assert.Contains("VAULT_READ_ERROR", error.GetProperty("error_description").GetString());
        Assert.Equal(HttpStatusCode.OK, working.StatusCode);
        foreach (var health in new[] { ready, authReady })
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode); // degraded, not out of service
            var body = await health.JsonAsync();
            Assert.Equal("degraded", body.GetProperty("status").GetString());
            Assert.Equal("degraded", body.GetProperty("checks").GetProperty("vault").GetProperty("status").GetString());
        }

        _server.Fault = VaultFault.None;
        // The circuit breaker lets a probe through after a few seconds: service resumes by itself.
        var recovered = false;
        for (var attempt = 0; attempt < 40 && !recovered; attempt++)
        {
            recovered = await AuthenticatesAsync(agent.Id, vaultBacked.Secret);
            if (!recovered)
            {
                await Task.Delay(250);
            }
        }
        Assert.True(recovered, "Vault-backed authentication did not recover within 10 s of Vault's return");
        using var healthy = await _env.AuthServer.CreateClient().GetAsync("/health/ready");
        Assert.Equal("healthy", (await healthy.JsonAsync()).GetProperty("checks").GetProperty("vault").GetProperty("status").GetString());
        var logs = _env.AuthServer.Logs.Text + _env.AdminApi.Logs.Text;
        Assert.DoesNotContain(vaultBacked.Secret[ClientSecret.RandomPartStart..], logs);
        Assert.DoesNotContain(_env.ServiceToken, logs);
    }

    [Fact]
    public async Task A_revocation_holds_while_Vault_is_away_and_the_cleanup_pass_destroys_the_secret_later()
    {
        var agent = await _env.Data.CreateAgentAsync();
        var vaultBacked = await CreateVaultCredentialAsync(agent.Id);
        _server.Fault = VaultFault.Down;

        using var revoke = await _env.Admin.DeleteAsync($"/api/v1/agents/{agent.Id}/credentials/{vaultBacked.Id}");

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.NotNull(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, vaultBacked.Id)));
        await using (var db = _env.Data.Open())
        {
            Assert.Single(await db.VaultCleanupQueue.ToListAsync());
        }
        _server.Fault = VaultFault.None;
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // let the circuit breaker half-open

        var settled = await _env.AdminApi.Services.GetRequiredService<AgentAdminApi.Credentials.VaultCleanupPass>().RunOnceAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(1, settled);
        Assert.Null(_server.Get("secret", VaultEnvironment.SecretPath(agent.Id, vaultBacked.Id)));
        Assert.False(await AuthenticatesAsync(agent.Id, vaultBacked.Secret));
    }

    [Fact]
    public async Task Retryable_answers_are_retried_a_bounded_number_of_times_and_others_not_at_all()
    {
        var agent = await _env.Data.CreateAgentAsync();
        var before = _server.Requests.Count;
        _server.Fault = VaultFault.Forbidden;
        using (await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { })) { }
        var forbiddenWrites = _server.Requests.Skip(before).Count(r => r.Method is "POST" or "PUT");

        before = _server.Requests.Count;
        _server.Fault = VaultFault.Sealed;
        using (await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { })) { }
        var sealedWrites = _server.Requests.Skip(before).Count(r => r.Method is "POST" or "PUT");
        _server.Fault = VaultFault.None;

        Assert.Equal(3, sealedWrites);    // the first try and two retries
        Assert.Equal(1, forbiddenWrites); // 403 is not retried (a fixed VAULT_TOKEN cannot log in again)
    }

    private async Task<bool> AuthenticatesAsync(Guid agentId, string secret)
    {
        using var response = await _env.OAuth.RequestTokenAsync(agentId.ToString(), secret);
        return response.StatusCode == HttpStatusCode.OK;
    }

    [Theory]
    [InlineData(VaultFault.Down)]
    [InlineData(VaultFault.Sealed)]
    public async Task A_Vault_secret_verified_within_the_cache_TTL_keeps_authenticating_while_Vault_is_away_and_the_row_still_decides(VaultFault fault)
    {
        var agent = await _env.Data.CreateAgentAsync();
        var warm = await CreateVaultCredentialAsync(agent.Id);
        var revokedDuringOutage = await CreateVaultCredentialAsync(agent.Id);
        var cold = await CreateVaultCredentialAsync(agent.Id);
        Assert.True(await AuthenticatesAsync(agent.Id, warm.Secret));
        Assert.True(await AuthenticatesAsync(agent.Id, revokedDuringOutage.Secret));
        _server.Fault = fault;
        try
        {
            Assert.True(await AuthenticatesAsync(agent.Id, warm.Secret), "a warm Vault secret is served from the cache");

            await using (var db = _env.Data.Open())
            {
                await db.Credentials.Where(c => c.Id == revokedDuringOutage.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, CredentialStatus.Revoked).SetProperty(c => c.RevokedAt, DateTimeOffset.UtcNow));
            }
            using var revoked = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), revokedDuringOutage.Secret);
            Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);

            // A wrong secret for the warm credential is not settled by the cache: it needs Vault, which is away.
            using var wrong = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), ClientSecret.Generate(warm.Id));
            Assert.Equal(HttpStatusCode.InternalServerError, wrong.StatusCode);

            var vaultRequests = _server.Requests.Count;
            using var failed = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), cold.Secret);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Contains("VAULT_READ_ERROR", (await failed.JsonAsync()).GetProperty("error_description").GetString());
            Assert.True(_server.Requests.Count > vaultRequests, "the cold credential was looked for in Vault");
        }
        finally
        {
            _server.Fault = VaultFault.None;
        }
    }

    private async Task<(Guid Id, string Secret)> CreateVaultCredentialAsync(Guid agentId)
    {
        using var response = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agentId}/credentials", new { });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.JsonAsync();
        return (Guid.Parse(body.GetProperty("credentialId").GetString()!), body.GetProperty("clientSecret").GetString()!);
    }
}
