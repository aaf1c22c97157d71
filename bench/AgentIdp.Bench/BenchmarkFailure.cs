namespace AgentIdp.Bench;

/// <summary>Something the benchmark relies on did not work (a server did not start, a request was refused, wrk failed): the run stops and says what.</summary>
internal sealed class BenchmarkFailure(string message) : Exception(message);
