using AgentIdp.Core.Vault;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentIdp.Vault.Tests;

/// <summary>AgentIdP's Vault clients against the contract of the Vault KV v2 HTTP API; run against every configured Vault.</summary>
public sealed class VaultKvClientContractTests
{
    private static (VaultKvClient Kv, VaultAuthClient Auth, ServiceProvider Services) Clients(IVaultTarget vault, string token)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["VAULT_ADDR"] = vault.Address.ToString(),
            ["VAULT_TOKEN"] = token,
            ["VAULT_TIMEOUT"] = "5",
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>))
            .AddVault(configuration)
            .BuildServiceProvider();
        return (services.GetRequiredService<VaultKvClient>(), services.GetRequiredService<VaultAuthClient>(), services);
    }

    private static VaultSecretPath NewPath(IVaultTarget vault) => new(vault.Mount, $"agentidp/contract-tests/{Guid.NewGuid():N}");

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Versions_are_written_read_latest_or_by_number_and_destroyed(string target)
    {
        var vault = await VaultTargets.GetAsync(target);
        var (kv, _, services) = Clients(vault, vault.AdminToken);
        await using var _ = services;
        var path = NewPath(vault);

        var first = await kv.WriteAsync(path, new Dictionary<string, string> { ["clientSecret"] = "one" }, null, CancellationToken.None);
        var second = await kv.WriteAsync(path, new Dictionary<string, string> { ["clientSecret"] = "two" }, null, CancellationToken.None);

        Assert.Equal(1, first);
        Assert.Equal(2, second);
        Assert.Equal("two", (await kv.ReadAsync(path, null, CancellationToken.None))!.Data!["clientSecret"]);
        Assert.Equal("one", (await kv.ReadAsync(path, 1, CancellationToken.None))!.Data!["clientSecret"]);
        Assert.Null(await kv.ReadAsync(path, 7, CancellationToken.None)); // a version that never existed: errors: []

        await kv.DestroyAllAsync(path, CancellationToken.None);

        Assert.Null(await kv.ReadAsync(path, null, CancellationToken.None));
        Assert.Null(await kv.ReadAsync(path, 1, CancellationToken.None));
        await kv.DestroyAllAsync(path, CancellationToken.None); // nothing there: fine
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task A_soft_deleted_version_is_told_apart_from_a_missing_one(string target)
    {
        var vault = await VaultTargets.GetAsync(target);
        var (kv, _, services) = Clients(vault, vault.AdminToken);
        await using var _ = services;
        var path = NewPath(vault);
        await kv.WriteAsync(path, new Dictionary<string, string> { ["clientSecret"] = "gone" }, null, CancellationToken.None);
        using (var http = new HttpClient { BaseAddress = vault.Address })
        {
            http.DefaultRequestHeaders.Add("X-Vault-Token", vault.AdminToken);
            (await http.DeleteAsync(path.DataUrl)).EnsureSuccessStatusCode();
        }

        var deleted = await kv.ReadAsync(path, 1, CancellationToken.None);

        Assert.NotNull(deleted);
        Assert.Null(deleted.Data);
        Assert.True(deleted.Deleted);
        Assert.False(deleted.Destroyed);
        Assert.Equal(1, deleted.Version);
        Assert.Null(await kv.ReadAsync(NewPath(vault), null, CancellationToken.None));
        await kv.DestroyAllAsync(path, CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Check_and_set_and_permission_denied_come_back_as_Vaults_own_errors(string target)
    {
        var vault = await VaultTargets.GetAsync(target);
        var (kv, _, services) = Clients(vault, vault.AdminToken);
        await using var _ = services;
        var path = NewPath(vault);
        await kv.WriteAsync(path, new Dictionary<string, string> { ["clientSecret"] = "x" }, checkAndSet: 0, CancellationToken.None);

        var cas = await Assert.ThrowsAsync<VaultException>(() =>
            kv.WriteAsync(path, new Dictionary<string, string> { ["clientSecret"] = "y" }, checkAndSet: 0, CancellationToken.None));
        var (limited, _, limitedServices) = Clients(vault, await vault.ServiceTokenAsync());
        await using var __ = limitedServices;
        var denied = await Assert.ThrowsAsync<VaultException>(() =>
            limited.WriteAsync(new VaultSecretPath(vault.Mount, $"not-agentidp/{Guid.NewGuid():N}"), new Dictionary<string, string> { ["a"] = "b" }, null, CancellationToken.None));

        Assert.Equal(400, cas.Status);
        Assert.Contains(cas.Errors, e => e.Contains("check-and-set", StringComparison.Ordinal));
        Assert.True(denied.PermissionDenied);
        Assert.Contains(denied.Errors, e => e.Contains("permission denied", StringComparison.Ordinal));
        await kv.DestroyAllAsync(path, CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(VaultTargets.All), MemberType = typeof(VaultTargets))]
    public async Task Tokens_are_looked_up_and_renewed_and_health_is_read(string target)
    {
        var vault = await VaultTargets.GetAsync(target);
        var (kv, auth, services) = Clients(vault, vault.AdminToken);
        await using var _ = services;
        var token = await vault.ServiceTokenAsync();

        var looked = await auth.LookupSelfAsync(token, CancellationToken.None);
        var renewed = await auth.RenewSelfAsync(token, CancellationToken.None);
        var health = await kv.HealthAsync(CancellationToken.None);

        Assert.True(looked.Renewable);
        Assert.InRange(looked.Duration, TimeSpan.FromMinutes(50), TimeSpan.FromHours(1));
        Assert.Equal(token, renewed.Token);
        Assert.True(renewed.Duration > TimeSpan.Zero);
        Assert.Equal(200, health.Status);
        Assert.False(health.Sealed);
        Assert.True(health.Initialized);
        var refused = await Assert.ThrowsAsync<VaultException>(() => auth.LookupSelfAsync("not-a-token", CancellationToken.None));
        Assert.True(refused.PermissionDenied);
    }
}
