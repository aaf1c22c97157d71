using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentIdp.Vault.Tests;

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
