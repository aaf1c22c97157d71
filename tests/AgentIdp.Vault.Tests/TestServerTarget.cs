using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentIdp.Vault.Tests;

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
