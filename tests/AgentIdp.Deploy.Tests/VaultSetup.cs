using System.Text.RegularExpressions;
using AgentIdp.Testing.Vault;

namespace AgentIdp.Deploy.Tests;

/// <summary>
/// What deploy/vault/setup.sh sets up for Kubernetes: the namespace its roles bind, and each role
/// (bound to the service account of the same name) with its policies, read from the lines
/// <c>role NAME POLICY,POLICY</c>; each policy's rules from <c>deploy/vault/NAME-policy.hcl</c>.
/// </summary>
internal sealed partial record VaultSetup(string Namespace, IReadOnlyDictionary<string, IReadOnlyList<string>> Roles, IReadOnlyList<string> WrittenPolicies)
{
    public static VaultSetup Read()
    {
        var script = File.ReadAllText(Repository.PathOf("deploy/vault/setup.sh"));
        var @namespace = NamespaceLine().Match(script);
        var written = PolicyLoop().Match(script);
        var roles = RoleLine().Matches(script).ToDictionary(
            match => match.Groups[1].Value,
            match => (IReadOnlyList<string>)match.Groups[2].Value.Split(','));
        Assert.True(@namespace.Success, "setup.sh: no line NAMESPACE=${AGENTIDP_NAMESPACE:-...} was found.");
        Assert.True(written.Success, "setup.sh: no line `for policy in ...; do` (the policies it writes) was found.");
        Assert.True(roles.Count > 0, "setup.sh: no line `role NAME POLICIES` was found.");
        return new VaultSetup(@namespace.Groups[1].Value, roles, written.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>A policy's rules, for the KV v2 mount <paramref name="mount"/> (setup.sh writes them with <c>secret/</c> replaced so).</summary>
    public static IReadOnlyList<VaultPolicyRule> Rules(string policy, string mount)
    {
        var file = Repository.PathOf($"deploy/vault/{policy}-policy.hcl");
        Assert.True(File.Exists(file), $"The Vault policy {policy} has no file deploy/vault/{policy}-policy.hcl.");
        return PolicyRule().Matches(File.ReadAllText(file))
            .Select(match => new VaultPolicyRule(
                match.Groups[1].Value.Replace("secret/", mount + "/", StringComparison.Ordinal),
                Quoted().Matches(match.Groups[2].Value).Select(capability => capability.Groups[1].Value).ToList()))
            .ToList();
    }

    [GeneratedRegex(@"^\s*NAMESPACE=\$\{AGENTIDP_NAMESPACE:-([^}]+)\}", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*for policy in ([^;]+); do", RegexOptions.Multiline)]
    private static partial Regex PolicyLoop();

    [GeneratedRegex(@"^\s*role (\S+) (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex RoleLine();

    [GeneratedRegex(@"path\s+""([^""]+)""\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}")]
    private static partial Regex PolicyRule();

    [GeneratedRegex(@"""([^""]+)""")]
    private static partial Regex Quoted();
}
