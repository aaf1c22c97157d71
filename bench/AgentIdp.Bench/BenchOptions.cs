namespace AgentIdp.Bench;

/// <summary>How much one run does: the full figures, or a smoke run that only shows that every part works.</summary>
internal sealed record BenchOptions
{
    /// <summary>The product's default, which an agent's first request (and every request with the cache off) pays.</summary>
    public const int DefaultBcryptCost = 10;

    /// <summary>Warm agents are checked once and then served from the cache: their cost would only slow seeding.</summary>
    public const int WarmAgentsBcryptCost = 4;

    public const int Connections = 32;
    public const int StormConnections = 200;

    public required bool Smoke { get; init; }
    public required bool Growth { get; init; }
    public required TimeSpan Duration { get; init; }
    public required TimeSpan WarmUp { get; init; }

    /// <summary>Cost of the cold-bcrypt and cold-storm agents' hashes, and the AuthServer's BCRYPT_COST.</summary>
    public required int BcryptCost { get; init; }

    /// <summary>Scenario keys named with --only; empty: the default set.</summary>
    public required IReadOnlySet<string> Only { get; init; }

    public int ManyAgents => Smoke ? 200 : 10_000;
    public int ColdAgents => Smoke ? 50 : 200;
    public int VaultAgents => Smoke ? 50 : 200;
    public int StormAgents => Smoke ? 100 : 1_000;

    /// <summary>Never-seen agents the storm probe asks for, apart from the storm's own.</summary>
    public int StormProbeAgents => Smoke ? 20 : 100;

    public int GrowthFewAgents => Smoke ? 100 : 1_000;
    public int GrowthManyAgents => Smoke ? 1_000 : 100_000;
    public TimeSpan VerifyMeasurement => TimeSpan.FromSeconds(Smoke ? 1 : 5);

    public static BenchOptions Create(bool smoke, bool growth, int? durationSeconds, int? bcryptCost, IEnumerable<string> only) => new()
    {
        Smoke = smoke,
        Growth = growth,
        Duration = TimeSpan.FromSeconds(durationSeconds ?? (smoke ? 2 : 15)),
        // On 2 busy cores the JIT needs this long to finish optimizing the token path: after 5 s, a row still measured ~30% low.
        WarmUp = TimeSpan.FromSeconds(smoke ? 1 : 10),
        // A smoke run seeds its cold agents at the cheapest cost: it checks that things work, not how fast.
        BcryptCost = bcryptCost ?? (smoke ? WarmAgentsBcryptCost : DefaultBcryptCost),
        Only = only.ToHashSet(StringComparer.Ordinal),
    };

    /// <summary>Whether a scenario runs: all but growth by default; --only names exactly which; --growth adds growth either way.</summary>
    public bool Runs(string key) =>
        (Only.Count == 0 ? key != Scenarios.Growth : Only.Contains(key)) || (key == Scenarios.Growth && Growth);
}
