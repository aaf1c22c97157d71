using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentIdp.Vault.Tests;

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
            Vault = vault,
            Data = data,
            AuthServer = authServer,
            AdminApi = adminApi,
            OAuth = oauth,
            Admin = client,
            AdminId = admin.Id,
            ServiceToken = token,
            Settings = settings,
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
