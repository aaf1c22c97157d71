using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentIdp.Vault.Tests;

/// <summary>
/// A Vault the tests run against: always the KV v2 test server; also a real Vault when
/// AGENTIDP_TEST_VAULT_ADDR and AGENTIDP_TEST_VAULT_TOKEN (a token allowed to write policies and
/// create tokens, such as a dev server's root token) are set, so anyone with a Vault can check that
/// AgentIdP and the test server keep its contract. AGENTIDP_TEST_VAULT_MOUNT names its KV v2 mount
/// (default secret).
/// </summary>
public interface IVaultTarget
{
    string Name { get; }
    Uri Address { get; }
    string AdminToken { get; }
    string Mount { get; }

    /// <summary>A renewable token limited to AgentIdP's policy (deploy/vault/agentidp-policy.hcl).</summary>
    Task<string> ServiceTokenAsync();

    /// <summary>What <c>vault kv get {mount}/{path}</c> finds: the latest version's number and clientSecret, or null when there is nothing.</summary>
    Task<(int Version, string? ClientSecret)?> KvGetAsync(string path);
}

public static class VaultTargets
{
    public const string TestServer = "test-server";
    public const string RealVault = "real-vault";

    private static readonly ConcurrentDictionary<string, Lazy<Task<IVaultTarget>>> Started = new();

    public static bool RealVaultConfigured =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("AGENTIDP_TEST_VAULT_ADDR")) &&
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("AGENTIDP_TEST_VAULT_TOKEN"));

    /// <summary>The targets a contract test runs against: a real Vault only when one is configured (never skipped, simply absent).</summary>
    public static IEnumerable<object[]> All()
    {
        yield return [TestServer];
        if (RealVaultConfigured)
        {
            yield return [RealVault];
        }
    }

    public static Task<IVaultTarget> GetAsync(string name) =>
        Started.GetOrAdd(name, key => new Lazy<Task<IVaultTarget>>(() => key == TestServer
            ? TestServerTarget.StartAsync()
            : Task.FromResult<IVaultTarget>(new RealVaultTarget()))).Value;
}

public sealed class TestServerTarget(VaultTestServer server) : IVaultTarget
{
    public VaultTestServer Server => server;
    public string Name => VaultTargets.TestServer;
    public Uri Address => server.Address;
    public string AdminToken => server.RootToken;
    public string Mount => "secret";

    public static async Task<IVaultTarget> StartAsync() => new TestServerTarget(await VaultTestServer.StartAsync());

    public Task<string> ServiceTokenAsync() => Task.FromResult(server.CreateToken(VaultTestServer.AgentIdpPolicy(Mount), TimeSpan.FromHours(1)));

    public Task<(int Version, string? ClientSecret)?> KvGetAsync(string path)
    {
        var stored = server.Get(Mount, path);
        if (stored is null || !stored.Versions.TryGetValue(stored.CurrentVersion, out var latest) || latest.Data is null || latest.DeletionTime is not null)
        {
            return Task.FromResult<(int, string?)?>(null);
        }
        return Task.FromResult<(int, string?)?>((stored.CurrentVersion, latest.Data.GetValueOrDefault("clientSecret")));
    }
}

public sealed class RealVaultTarget : IVaultTarget
{
    private readonly HttpClient _http;

    public RealVaultTarget()
    {
        Address = new Uri(Environment.GetEnvironmentVariable("AGENTIDP_TEST_VAULT_ADDR")!.TrimEnd('/') + "/");
        AdminToken = Environment.GetEnvironmentVariable("AGENTIDP_TEST_VAULT_TOKEN")!;
        Mount = Environment.GetEnvironmentVariable("AGENTIDP_TEST_VAULT_MOUNT") is { Length: > 0 } mount ? mount.Trim('/') : "secret";
        _http = new HttpClient { BaseAddress = Address };
        _http.DefaultRequestHeaders.Add("X-Vault-Token", AdminToken);
    }

    public string Name => VaultTargets.RealVault;
    public Uri Address { get; }
    public string AdminToken { get; }
    public string Mount { get; }

    public async Task<string> ServiceTokenAsync()
    {
        var policy = string.Join('\n', File.ReadAllLines(PolicyFile()).Select(line => line.Replace("secret/", Mount + "/", StringComparison.Ordinal)));
        using (var put = await _http.PutAsJsonAsync("v1/sys/policies/acl/agentidp-test", new { policy }))
        {
            put.EnsureSuccessStatusCode();
        }
        using var create = await _http.PostAsJsonAsync("v1/auth/token/create", new { policies = new[] { "agentidp-test" }, ttl = "1h", renewable = true });
        create.EnsureSuccessStatusCode();
        return (await create.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("auth").GetProperty("client_token").GetString()!;
    }

    public async Task<(int Version, string? ClientSecret)?> KvGetAsync(string path)
    {
        using var response = await _http.GetAsync($"v1/{Mount}/data/{path}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        var data = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data");
        return (data.GetProperty("metadata").GetProperty("version").GetInt32(),
            data.GetProperty("data").TryGetProperty("clientSecret", out var secret) ? secret.GetString() : null);
    }

    /// <summary>The policy operators install, read from the repository so the tests check the real one.</summary>
    private static string PolicyFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "vault", "agentidp-policy.hcl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException("deploy/vault/agentidp-policy.hcl was not found above the test's folder.");
    }
}

/// <summary>Both services in Vault mode on a database of their own, and an admin (whose own credential is bcrypt: coexistence from the start).</summary>
public sealed class VaultEnvironment : IAsyncDisposable
{
    public required IVaultTarget Vault { get; init; }
    public required TestData Data { get; init; }
    public required AuthServerFactory AuthServer { get; init; }
    public required AdminApiFactory AdminApi { get; init; }
    public required HttpClient OAuth { get; init; }
    public required HttpClient Admin { get; init; }
    public required Guid AdminId { get; init; }
    public required string ServiceToken { get; init; }
    public required IReadOnlyDictionary<string, string?> Settings { get; init; }

    public static async Task<VaultEnvironment> StartAsync(IVaultTarget vault, IReadOnlyDictionary<string, string?>? extra = null, TimeProvider? time = null)
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var token = await vault.ServiceTokenAsync();
        var settings = new Dictionary<string, string?>
        {
            ["VAULT_ADDR"] = vault.Address.ToString(),
            ["VAULT_TOKEN"] = token,
            ["VAULT_KV_MOUNT"] = vault.Mount,
            ["VAULT_TIMEOUT"] = "2",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var authServer = new AuthServerFactory(data.ConnectionString, settings, time);
        var oauth = authServer.CreateClient();
        var adminApi = new AdminApiFactory(data.ConnectionString, authServer.Server.CreateHandler(), settings, time: time);
        var (admin, credential) = await data.CreateAgentWithCredentialAsync(AgentIdp.Core.Agents.AdminCapabilities.All);
        var client = adminApi.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            await oauth.GetAccessTokenAsync(admin.Id.ToString(), credential.ClientSecret));
        return new VaultEnvironment
        {
            Vault = vault, Data = data, AuthServer = authServer, AdminApi = adminApi, OAuth = oauth, Admin = client,
            AdminId = admin.Id, ServiceToken = token, Settings = settings,
        };
    }

    public VaultTestServer Server => ((TestServerTarget)Vault).Server;

    public static string SecretPath(Guid agentId, Guid credentialId) => $"agentidp/agents/{agentId}/credentials/{credentialId}";

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        OAuth.Dispose();
        await AdminApi.DisposeAsync();
        await AuthServer.DisposeAsync();
    }
}
