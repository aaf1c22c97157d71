namespace AgentIdp.Bench;

/// <summary>
/// One probe's sequential requests beside a wrk run: its answers by status (0: the connection failed), and
/// the latency of the answers it is about (<see cref="Measured"/> of them).
/// </summary>
internal sealed record ProbeSeries(string Name, IReadOnlyDictionary<int, int> Statuses, int Measured, TimeSpan? P50, TimeSpan? P99);
