using System.Net;
using System.Net.Http.Json;
using AgentIdp.Core.Vault;
using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Vault.Tests;

/// <summary>VAULT_AUTH_METHOD: token (fixed or from a file), kubernetes, approle; renewal and re-login.</summary>
public sealed class VaultAuthMethodTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("agentidp-vault-auth-").FullName;
    private VaultTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VaultTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<VaultEnvironment> StartAsync(Dictionary<string, string?> settings, TimeProvider? time = null, VaultTestServer? server = null) =>
        await VaultEnvironment.StartAsync(new TestServerTarget(server ?? _server), settings, time);

    private static async Task<bool> CanWriteAsync(VaultEnvironment env)
    {
        var agent = await env.Data.CreateAgentAsync();
        using var response = await env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        return response.StatusCode == HttpStatusCode.Created;
    }

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task A_token_file_is_re_read_when_Vault_Agent_replaces_the_token()
    {
        var first = _server.CreateToken(VaultTestServer.AgentIdpPolicy());
        var file = WriteFile("token", first + "\n");
        await using var env = await StartAsync(new() { ["VAULT_TOKEN"] = null, ["VAULT_TOKEN_FILE"] = file });
        Assert.True(await CanWriteAsync(env));

        _server.RevokeToken(first);
        var second = _server.CreateToken(VaultTestServer.AgentIdpPolicy());
        File.WriteAllText(file, second);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));

        Assert.True(await CanWriteAsync(env));
        Assert.Contains(_server.Requests, r => r.Token == second && r.Method == "POST" && r.Path.StartsWith("/v1/secret/data/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubernetes_auth_logs_in_with_the_service_account_token_and_again_after_a_403()
    {
        const string jwt = "eyJhbGciOiJSUzI1NiJ9.service-account.signature";
        _server.AddKubernetesRole("agentidp", jwt, VaultTestServer.AgentIdpPolicy(), TimeSpan.FromHours(1));
        var jwtFile = WriteFile("sa-token", jwt);
        await using var env = await StartAsync(new()
        {
            ["VAULT_TOKEN"] = null,
            ["VAULT_AUTH_METHOD"] = "kubernetes",
            ["VAULT_K8S_ROLE"] = "agentidp",
            ["VAULT_K8S_JWT_PATH"] = jwtFile,
        });

        Assert.True(await CanWriteAsync(env));
        var login = _server.Requests.Last(r => r.Path == "/v1/auth/kubernetes/login" && r.Status == 200);
        var loginToken = _server.Requests.Last(r => r.Path.StartsWith("/v1/secret/data/", StringComparison.Ordinal)).Token!;
        Assert.Null(login.Token); // a login carries no token

        _server.RevokeToken(loginToken);
        var loginsBefore = _server.Requests.Count(r => r.Path == "/v1/auth/kubernetes/login");

        Assert.True(await CanWriteAsync(env));
        Assert.True(_server.Requests.Count(r => r.Path == "/v1/auth/kubernetes/login") > loginsBefore);
        Assert.NotEqual(loginToken, _server.Requests.Last(r => r.Path.StartsWith("/v1/secret/data/", StringComparison.Ordinal)).Token);
    }

    [Fact]
    public async Task AppRole_auth_logs_in_with_the_role_id_and_the_secret_id_from_a_file()
    {
        _server.AddAppRole("role-123", "secret-456", VaultTestServer.AgentIdpPolicy(), TimeSpan.FromHours(1));
        await using var env = await StartAsync(new()
        {
            ["VAULT_TOKEN"] = null,
            ["VAULT_AUTH_METHOD"] = "approle",
            ["VAULT_APPROLE_ROLE_ID"] = "role-123",
            ["VAULT_APPROLE_SECRET_ID_FILE"] = WriteFile("secret-id", "secret-456\n"),
        });

        Assert.True(await CanWriteAsync(env));
        Assert.Contains(_server.Requests, r => r.Path == "/v1/auth/approle/login" && r.Status == 200);
    }

    /// <summary>Each service (AuthServer and admin API) runs its own renewal loop against the same Vault.</summary>
    private const int RenewalLoops = 2;

    /// <summary>
    /// Waits until every renewal loop sleeps on a delay started after <paramref name="mark"/> (longer than
    /// <paramref name="longerThan"/>), then advances fake time past the longest of them: advancing before a
    /// loop has started its delay would be lost.
    /// </summary>
    private static async Task WakeRenewalLoopsAsync(WatchedTimeProvider time, int mark, TimeSpan longerThan)
    {
        var waits = await time.WaitForDelaysAsync(mark, due => due > longerThan, RenewalLoops);
        time.Advance(waits.Max() + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_renewable_token_is_renewed_at_two_thirds_of_its_ttl_and_outlives_it()
    {
        var time = new WatchedTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await VaultTestServer.StartAsync(time);
        var token = server.CreateToken(VaultTestServer.AgentIdpPolicy(), TimeSpan.FromSeconds(90), renewable: true);
        await using var env = await StartAsync(new() { ["VAULT_TOKEN"] = token }, time, server);
        Assert.True(await CanWriteAsync(env));

        await WakeRenewalLoopsAsync(time, mark: 0, longerThan: TimeSpan.FromSeconds(50)); // two thirds of 90 s
        await TestData.EventuallyAsync(() => Task.FromResult(server.Requests.Count(r => r.Path == "/v1/auth/token/renew-self" && r.Status == 200) >= RenewalLoops ? "renewed" : null));
        time.Advance(TimeSpan.FromSeconds(40)); // past the first TTL: only a renewal keeps it alive

        Assert.True(await CanWriteAsync(env));
    }

    [Fact]
    public async Task A_token_whose_lookup_failed_at_start_is_looked_up_again_and_renewed_once_Vault_is_back()
    {
        var time = new WatchedTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await VaultTestServer.StartAsync(time);
        var token = server.CreateToken(VaultTestServer.AgentIdpPolicy(), TimeSpan.FromSeconds(90), renewable: true);
        server.Fault = VaultFault.Down;
        await using var env = await StartAsync(new() { ["VAULT_TOKEN"] = token }, time, server);
        // Each loop's lookup fails, after the Vault client's own short retry backoff, and it waits to retry.
        await time.AdvanceUntilAsync(() => time.CountDelays(0, due => due == VaultTokenRenewal.Retry) >= RenewalLoops, TimeSpan.FromMilliseconds(100));

        server.Fault = VaultFault.None;
        var mark = time.DelaysStarted;
        time.Advance(VaultTokenRenewal.Retry);
        await TestData.EventuallyAsync(() => Task.FromResult(server.Requests.Count(r => r.Path == "/v1/auth/token/lookup-self" && r.Status == 200) >= RenewalLoops ? "looked up" : null));
        await WakeRenewalLoopsAsync(time, mark, longerThan: VaultTokenRenewal.Retry); // now sleeping until two thirds of the TTL
        await TestData.EventuallyAsync(() => Task.FromResult(server.Requests.Count(r => r.Path == "/v1/auth/token/renew-self" && r.Status == 200) >= RenewalLoops ? "renewed" : null));
        time.Advance(TimeSpan.FromSeconds(30)); // past the first TTL

        Assert.True(await CanWriteAsync(env));
    }

    [Fact]
    public async Task A_login_token_that_cannot_be_renewed_is_replaced_by_logging_in_again()
    {
        var time = new WatchedTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await VaultTestServer.StartAsync(time);
        server.AddAppRole("role-1", "secret-1", VaultTestServer.AgentIdpPolicy(), TimeSpan.FromSeconds(90), renewable: false);
        await using var env = await StartAsync(new()
        {
            ["VAULT_TOKEN"] = null,
            ["VAULT_AUTH_METHOD"] = "approle",
            ["VAULT_APPROLE_ROLE_ID"] = "role-1",
            ["VAULT_APPROLE_SECRET_ID"] = "secret-1",
        }, time, server);
        Assert.True(await CanWriteAsync(env));
        var logins = server.Requests.Count(r => r.Path == "/v1/auth/approle/login");

        await WakeRenewalLoopsAsync(time, mark: 0, longerThan: TimeSpan.FromSeconds(50)); // two thirds of 90 s
        await TestData.EventuallyAsync(() => Task.FromResult(server.Requests.Count(r => r.Path == "/v1/auth/approle/login") >= logins + RenewalLoops ? "again" : null));
        time.Advance(TimeSpan.FromSeconds(40));

        Assert.True(await CanWriteAsync(env));
    }

    [Fact]
    public async Task Every_request_carries_X_Vault_Request_and_the_namespace()
    {
        _server.MountKv("secret", "team-a");
        var token = _server.CreateToken(VaultTestServer.AgentIdpPolicy(), @namespace: "team-a");
        await using var env = await StartAsync(new() { ["VAULT_TOKEN"] = token, ["VAULT_NAMESPACE"] = "team-a" });

        Assert.True(await CanWriteAsync(env));

        var agentRequests = _server.Requests.Where(r => r.Path.StartsWith("/v1/secret/", StringComparison.Ordinal) || r.Path.StartsWith("/v1/auth/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(agentRequests);
        Assert.All(agentRequests, r => Assert.True(r.HasVaultRequestHeader));
        Assert.All(agentRequests, r => Assert.Equal("team-a", r.Namespace));
        await using var db = env.Data.Open();
        var credential = await db.Credentials.SingleAsync(c => c.VaultPath != null);
        Assert.NotNull(_server.Get("secret", credential.VaultPath!["secret/data/".Length..], "team-a"));
        Assert.Null(_server.Get("secret", credential.VaultPath!["secret/data/".Length..]));
    }

    [Theory]
    [InlineData("kv-preferred", "kv-legacy", "kv-preferred")]
    [InlineData(null, "kv-legacy", "kv-legacy")]
    [InlineData(null, null, "secret")]
    public async Task VAULT_KV_MOUNT_wins_over_VAULT_MOUNT_and_secret_is_the_default(string? kvMount, string? legacyMount, string expected)
    {
        _server.MountKv("kv-preferred");
        _server.MountKv("kv-legacy");
        var token = _server.CreateToken([.. VaultTestServer.AgentIdpPolicy("kv-preferred"), .. VaultTestServer.AgentIdpPolicy("kv-legacy"), .. VaultTestServer.AgentIdpPolicy()]);
        await using var env = await StartAsync(new() { ["VAULT_TOKEN"] = token, ["VAULT_KV_MOUNT"] = kvMount, ["VAULT_MOUNT"] = legacyMount });

        Assert.True(await CanWriteAsync(env));

        await using var db = env.Data.Open();
        var credential = await db.Credentials.SingleAsync(c => c.VaultPath != null);
        Assert.StartsWith($"{expected}/data/agentidp/agents/", credential.VaultPath);
        Assert.NotNull(_server.Get(expected, credential.VaultPath![$"{expected}/data/".Length..]));
    }
}
