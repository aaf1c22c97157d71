namespace AgentIdp.Bench;

/// <summary>A part of the run, named by the key --only takes, that measures one row of the table (growth: two).</summary>
internal sealed record Scenario(string Key, Func<CancellationToken, Task<IReadOnlyList<ScenarioResult>>> RunAsync);
