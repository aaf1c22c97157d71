using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentIdp.Vault.Tests;

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
