namespace AgentIdp.Bench;

/// <summary>
/// What one row puts on a running server, and how it is measured: one request that must get a token; if
/// asked, a token for every agent so that all are cached; a short wrk warm-up, and one request that waits
/// until the warm-up has left nothing queued in the server; then the measured wrk run,
/// round-robin over the agents, with the row's probe beside it if it has one.
/// </summary>
internal sealed record TokenLoad(string Name, IReadOnlyList<SeededAgent> Agents)
{
    /// <summary>The row whose tokens/s this row's is a ratio of.</summary>
    public string? Baseline { get; init; }

    /// <summary>The JWS algorithm the server is asked to sign with; a token signed otherwise is noted under the table.</summary>
    public string Algorithm { get; init; } = "RS256";

    /// <summary>The agent of the request that must get a token before load; the first agent unless set.</summary>
    public SeededAgent? FirstRequestAgent { get; init; }

    /// <summary>Get a token for every agent before the warm-up (8 at a time), so that the measured run finds all of them cached.</summary>
    public bool WarmEveryAgent { get; init; }

    /// <summary>A wrk warm-up before the measured run; the cold storm has none, since a cold server is its point.</summary>
    public bool WarmUp { get; init; } = true;

    public int Connections { get; init; } = BenchOptions.Connections;

    /// <summary>Measured beside the wrk run, until the run ends.</summary>
    public Func<TokenClient, CancellationToken, Task<IReadOnlyList<ProbeSeries>>>? Probe { get; init; }

    public async Task<ScenarioResult> MeasureAsync(BenchEnvironment bench, ServerProcess server, CancellationToken cancellationToken)
    {
        using var client = new TokenClient(server);
        var notes = new List<string>();
        var first = await client.RequireTokenAsync(FirstRequestAgent ?? Agents[0], cancellationToken);
        if (first.SigningAlgorithm() is var signedWith && signedWith != Algorithm)
        {
            notes.Add($"{Name}: tokens were signed {signedWith ?? "(no JWT)"}, not {Algorithm} as asked.");
        }
        if (WarmEveryAgent)
        {
            await client.WarmAsync(Agents, cancellationToken);
        }

        var credentials = bench.WorkFile(Name, "credentials.csv");
        CredentialsFile.Write(credentials, Agents);
        var wrk = new WrkRun(server.BaseAddress, credentials, Connections);
        if (WarmUp)
        {
            await wrk.RunAsync(bench, $"{Name} warm-up", bench.Options.WarmUp, cancellationToken);
            server.EnsureRunning("during the warm-up");
            await client.DrainAsync(Agents[0], cancellationToken);
        }

        using var probing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var probe = Probe?.Invoke(client, probing.Token) ?? Task.FromResult<IReadOnlyList<ProbeSeries>>([]);
        WrkResult load;
        try
        {
            load = await wrk.RunAsync(bench, Name, bench.Options.Duration, cancellationToken);
        }
        finally
        {
            await probing.CancelAsync();
        }
        server.EnsureRunning("under load");
        return new ScenarioResult(Name, Baseline, load, server.ResidentSetBytes()) { Probes = await probe, Notes = notes };
    }
}
