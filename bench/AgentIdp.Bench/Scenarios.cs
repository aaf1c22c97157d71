namespace AgentIdp.Bench;

/// <summary>
/// The table's rows, in the order they run: each against servers started for it alone, on a database of its
/// own, and read as a ratio of a baseline measured earlier in the same run.
/// </summary>
internal sealed class Scenarios(BenchEnvironment bench)
{
    public const string BareRs256 = "bare-rs256";
    public const string BareEs256 = "bare-es256";
    public const string HotRs256 = "hot-rs256";
    public const string HotEs256 = "hot-es256";
    public const string ManyAgents = "many-agents";
    public const string ColdBcrypt = "cold-bcrypt";
    public const string Vault = "vault";
    public const string ColdStorm = "cold-storm";
    public const string Growth = "growth";

    /// <summary>The baseline of the cold-bcrypt row: not a scenario, but what the cores verify (<see cref="VerifyCapacity"/>).</summary>
    public const string VerifyRate = "cores' verify rate";

    private const string Rs256 = "RS256";
    private const string Es256 = "ES256";

    /// <summary>What an AuthServer holding 100,000 verified secrets may take.</summary>
    private const long GrowthMemoryLimitBytes = 300_000_000;

    private static readonly Dictionary<string, string> DefaultSettings = [];

    /// <summary>The cache off: every token costs a full check of the secret.</summary>
    private static readonly Dictionary<string, string> CacheOff = new(StringComparer.Ordinal) { ["SECRET_CACHE_TTL"] = "0" };

    public static IReadOnlyList<string> Keys { get; } =
        [BareRs256, BareEs256, HotRs256, HotEs256, ManyAgents, ColdBcrypt, Vault, ColdStorm, Growth];

    private BenchOptions Options => bench.Options;

    public IEnumerable<Scenario> Selected() => new Scenario[]
    {
        new(BareRs256, cancellationToken => BareAsync(Rs256, cancellationToken)),
        new(BareEs256, cancellationToken => BareAsync(Es256, cancellationToken)),
        new(HotRs256, cancellationToken => HotAgentAsync(Rs256, cancellationToken)),
        new(HotEs256, cancellationToken => HotAgentAsync(Es256, cancellationToken)),
        new(ManyAgents, ManyAgentsAsync),
        new(ColdBcrypt, ColdBcryptAsync),
        new(Vault, VaultAsync),
        new(ColdStorm, ColdStormAsync),
        new(Growth, GrowthAsync),
    }.Where(scenario => Options.Runs(scenario.Key));

    private static string BareName(string algorithm) => $"bare {algorithm}";

    private static string HotName(string algorithm) => $"hot agent {algorithm}";

    private async Task<IReadOnlyList<ScenarioResult>> BareAsync(string algorithm, CancellationToken cancellationToken)
    {
        using var signer = await BareSigner.StartAsync(bench, algorithm, cancellationToken);
        // The bare signer checks no secret: one well-formed client is all it needs.
        var load = new TokenLoad(BareName(algorithm), [SeededAgent.Unregistered()]) { Algorithm = algorithm };
        return [await load.MeasureAsync(bench, signer, cancellationToken)];
    }

    /// <summary>One agent, over and over: after its first request its secret comes from the cache, so this is the token path without bcrypt.</summary>
    private async Task<IReadOnlyList<ScenarioResult>> HotAgentAsync(string algorithm, CancellationToken cancellationToken)
    {
        var name = HotName(algorithm);
        return await BcryptAgentsAsync(name, 1, BenchOptions.WarmAgentsBcryptCost,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["SIGNING_ALGORITHM"] = algorithm },
            agents => new TokenLoad(name, agents) { Baseline = BareName(algorithm), Algorithm = algorithm }, cancellationToken);
    }

    /// <summary>Many agents round-robin, all cached first: what spreading the load over many credentials costs.</summary>
    private async Task<IReadOnlyList<ScenarioResult>> ManyAgentsAsync(CancellationToken cancellationToken)
    {
        var name = $"{Options.ManyAgents:N0} agents {Rs256}";
        return await BcryptAgentsAsync(name, Options.ManyAgents, BenchOptions.WarmAgentsBcryptCost, DefaultSettings,
            agents => new TokenLoad(name, agents) { Baseline = HotName(Rs256), WarmEveryAgent = true }, cancellationToken);
    }

    /// <summary>The cache off and the product's bcrypt cost: every token pays one full check, so the cores' verify rate bounds it.</summary>
    private async Task<IReadOnlyList<ScenarioResult>> ColdBcryptAsync(CancellationToken cancellationToken)
    {
        var name = $"cold bcrypt (cost {Options.BcryptCost})";
        return await BcryptAgentsAsync(name, Options.ColdAgents, Options.BcryptCost, CacheOff,
            agents => new TokenLoad(name, agents) { Baseline = VerifyRate }, cancellationToken);
    }

    /// <summary>The common shape of a row: bcrypt agents on a fresh database, a server of its own, one measured load.</summary>
    private async Task<IReadOnlyList<ScenarioResult>> BcryptAgentsAsync(string name, int agentCount, int bcryptCost,
        IReadOnlyDictionary<string, string> settings, Func<IReadOnlyList<SeededAgent>, TokenLoad> load, CancellationToken cancellationToken)
    {
        var database = await bench.CreateDatabaseAsync(cancellationToken);
        var agents = await new Seeder(database).AddBcryptAgentsAsync(agentCount, bcryptCost, cancellationToken);
        using var server = await AuthServerProcess.StartAsync(bench, name, database, settings, cancellationToken);
        return [await load(agents).MeasureAsync(bench, server, cancellationToken)];
    }

    /// <summary>Vault-backed credentials with the cache off: every token waits for one KV v2 read from a Vault 1 ms away.</summary>
    private async Task<IReadOnlyList<ScenarioResult>> VaultAsync(CancellationToken cancellationToken)
    {
        const string name = "vault, cache off";
        var (vault, token) = await bench.VaultAsync();
        var database = await bench.CreateDatabaseAsync(cancellationToken);
        var agents = await new Seeder(database).AddVaultAgentsAsync(Options.VaultAgents, vault, cancellationToken);
        var settings = new Dictionary<string, string>(CacheOff, StringComparer.Ordinal)
        {
            ["VAULT_ADDR"] = vault.Address.ToString(),
            ["VAULT_TOKEN"] = token,
        };
        using var server = await AuthServerProcess.StartAsync(bench, name, database, settings, cancellationToken);
        var load = new TokenLoad(name, agents) { Baseline = HotName(Rs256) };
        return [await load.MeasureAsync(bench, server, cancellationToken)];
    }

    /// <summary>
    /// A freshly started server, 200 connections for agents it has never verified, at the product's cost:
    /// bcrypt is saturated and the rest is shed with 503. No warm-up. The probe shows what a cached agent
    /// and a shed one see meanwhile.
    /// </summary>
    private async Task<IReadOnlyList<ScenarioResult>> ColdStormAsync(CancellationToken cancellationToken)
    {
        const string name = "cold storm";
        var database = await bench.CreateDatabaseAsync(cancellationToken);
        var agents = await new Seeder(database).AddBcryptAgentsAsync(
            1 + Options.StormProbeAgents + Options.StormAgents, Options.BcryptCost, cancellationToken);
        var warm = agents[0];
        var neverSeen = agents.Skip(1).Take(Options.StormProbeAgents).ToList();
        var storm = agents.Skip(1 + Options.StormProbeAgents).ToList();
        using var server = await AuthServerProcess.StartAsync(bench, name, database, DefaultSettings, cancellationToken);
        var load = new TokenLoad(name, storm)
        {
            // The one request before the storm is the warm agent's: it is cached, and no storm agent has been seen.
            FirstRequestAgent = warm,
            WarmUp = false,
            Connections = BenchOptions.StormConnections,
            Probe = (client, stop) => StormProbe.RunAsync(client, warm, neverSeen, stop),
        };
        return [await load.MeasureAsync(bench, server, cancellationToken)];
    }

    /// <summary>
    /// Few against many warm agents on one server: the many-agent run finds the few-agent run's agents
    /// cached too, as a growing deployment would. Then the memory of a server holding them all.
    /// </summary>
    private async Task<IReadOnlyList<ScenarioResult>> GrowthAsync(CancellationToken cancellationToken)
    {
        var fewName = $"growth: {Options.GrowthFewAgents:N0} agents";
        var manyName = $"growth: {Options.GrowthManyAgents:N0} agents";
        var database = await bench.CreateDatabaseAsync(cancellationToken);
        var agents = await new Seeder(database).AddBcryptAgentsAsync(Options.GrowthManyAgents, BenchOptions.WarmAgentsBcryptCost, cancellationToken);
        using var server = await AuthServerProcess.StartAsync(bench, "growth", database, DefaultSettings, cancellationToken);
        var few = await new TokenLoad(fewName, [.. agents.Take(Options.GrowthFewAgents)]) { Baseline = HotName(Rs256), WarmEveryAgent = true }
            .MeasureAsync(bench, server, cancellationToken);
        var many = await new TokenLoad(manyName, agents) { Baseline = fewName, WarmEveryAgent = true }
            .MeasureAsync(bench, server, cancellationToken);
        var memory = many.ResidentSetBytes;
        var target = new TargetCheck(
            $"AuthServer RSS with {agents.Count:N0} credentials cached: {Report.Megabytes(memory)} (must be < {Report.Megabytes(GrowthMemoryLimitBytes)})",
            memory < GrowthMemoryLimitBytes);
        Progress.Report(target.Description);
        return [few, many with { Targets = [target] }];
    }
}
