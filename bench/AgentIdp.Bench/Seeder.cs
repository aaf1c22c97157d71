using System.Diagnostics;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Vault;
using AgentIdp.Testing;
using AgentIdp.Testing.Vault;
using Microsoft.Extensions.Options;

namespace AgentIdp.Bench;

/// <summary>
/// Writes active agents with one credential each straight into a scenario's database, a thousand per
/// transaction: bcrypt-hashed on every core at once, or kept in the Vault test server as the admin API
/// keeps them there.
/// </summary>
internal sealed class Seeder(string connectionString)
{
    private const int BatchSize = 1_000;
    private static readonly List<string> Capabilities = ["invoices:read", "invoices:write"];

    public Task<IReadOnlyList<SeededAgent>> AddBcryptAgentsAsync(int count, int bcryptCost, CancellationToken cancellationToken)
    {
        var hasher = new SecretHasher(Options.Create(new SecretHashingOptions { BcryptCost = bcryptCost }));
        return AddAsync(count, $"bcrypt cost {bcryptCost}", (_, credential) =>
        {
            var secret = ClientSecret.Generate(credential.Id);
            credential.SecretHash = hasher.Hash(secret);
            return secret;
        }, cancellationToken);
    }

    /// <summary>Agents whose secret is <c>{"clientSecret": …}</c> at their KV v2 path; the row names the path and version, and has no hash.</summary>
    public Task<IReadOnlyList<SeededAgent>> AddVaultAgentsAsync(int count, VaultTestServer vault, CancellationToken cancellationToken) =>
        AddAsync(count, "in Vault", (agent, credential) =>
        {
            var secret = ClientSecret.Generate(credential.Id);
            var path = VaultSecretPath.ForCredential(BenchEnvironment.VaultMount, agent.Id, credential.Id);
            vault.Put(path.Mount, path.Path, new Dictionary<string, string> { [VaultSecretStore.SecretField] = secret });
            credential.VaultPath = path.ToString();
            credential.VaultVersion = vault.Get(path.Mount, path.Path)!.CurrentVersion;
            return secret;
        }, cancellationToken);

    private async Task<IReadOnlyList<SeededAgent>> AddAsync(
        int count, string secretKind, Func<Agent, Credential, string> giveSecret, CancellationToken cancellationToken)
    {
        Progress.Report($"seeding {Agents(count)} ({secretKind})");
        var started = Stopwatch.GetTimestamp();
        var seeded = new List<SeededAgent>(count);
        var data = new TestData(connectionString);
        for (var first = 0; first < count; first += BatchSize)
        {
            var agents = new Agent[Math.Min(BatchSize, count - first)];
            var secrets = new string[agents.Length];
            // Hashing is the slow part: every core takes a share.
            Parallel.For(0, agents.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                agents[i] = NewAgent();
                secrets[i] = giveSecret(agents[i], agents[i].Credentials[0]);
            });
            await using var db = data.Open();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            db.Agents.AddRange(agents); // each with its credential
            await db.SaveChangesAsync(cancellationToken);
            seeded.AddRange(agents.Select((agent, i) => new SeededAgent(agent.Id, secrets[i])));
        }
        Progress.Report($"seeded {Agents(count)} in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
        return seeded;
    }

    private static string Agents(int count) => count == 1 ? "1 agent" : $"{count:N0} agents";

    private static Agent NewAgent()
    {
        var now = DateTimeOffset.UtcNow;
        var agent = new Agent
        {
            Id = Guid.NewGuid(),
            Email = $"bench-{Guid.NewGuid():N}@example.com",
            AgentType = AgentType.Screener,
            Version = "1.0.0",
            Capabilities = [.. Capabilities],
            Owner = "bench",
            DeploymentEnv = DeploymentEnvironment.Production,
            Status = AgentStatus.Active,
            CreatedAt = now,
            UpdatedAt = now,
        };
        agent.Credentials.Add(new Credential { Id = Guid.NewGuid(), AgentId = agent.Id, CreatedAt = now, Status = CredentialStatus.Active });
        return agent;
    }
}
