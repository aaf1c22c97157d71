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
