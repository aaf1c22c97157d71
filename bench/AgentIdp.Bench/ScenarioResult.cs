namespace AgentIdp.Bench;

/// <summary>
/// One row of the table: the measured wrk run, the row whose tokens/s it is a ratio of, the server's
/// resident memory at the end, and whatever was measured or checked beside it.
/// </summary>
internal sealed record ScenarioResult(string Name, string? Baseline, WrkResult Load, long ResidentSetBytes)
{
    public IReadOnlyList<ProbeSeries> Probes { get; init; } = [];
    public IReadOnlyList<string> Notes { get; init; } = [];
    public IReadOnlyList<TargetCheck> Targets { get; init; } = [];
}

/// <summary>A figure the product promises, and whether this run met it.</summary>
internal sealed record TargetCheck(string Description, bool Met);
