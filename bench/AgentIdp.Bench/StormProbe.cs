using System.Net;

namespace AgentIdp.Bench;

/// <summary>
/// Runs beside the cold storm, one request at a time, two series: a warm agent's requests (cached just before
/// the storm: they need no bcrypt and should stay fast), and never-seen agents' requests, of which the ones
/// answered 503 show how fast the shed are turned away. wrk's own latency mixes every status, these do not.
/// </summary>
internal static class StormProbe
{
    /// <summary>Between two requests of a series, so that the probe stays a small part of the load it watches.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(10);

    public static async Task<IReadOnlyList<ProbeSeries>> RunAsync(
        TokenClient client, SeededAgent warm, IReadOnlyList<SeededAgent> neverSeen, CancellationToken stop) =>
        await Task.WhenAll(WarmAgentAsync(client, warm, stop), NeverSeenAgentsAsync(client, neverSeen, stop));

    private static async Task<ProbeSeries> WarmAgentAsync(TokenClient client, SeededAgent warm, CancellationToken stop)
    {
        var series = new Recorder("warm agent: all answers");
        while (await RequestAsync(client, warm, stop) is { } answer)
        {
            series.Add(answer, measured: true);
            await PauseAsync(stop);
        }
        return series.ToSeries();
    }

    private static async Task<ProbeSeries> NeverSeenAgentsAsync(TokenClient client, IReadOnlyList<SeededAgent> agents, CancellationToken stop)
    {
        var series = new Recorder("never-seen agents: 503 answers");
        var next = 0;
        while (next < agents.Count && await RequestAsync(client, agents[next], stop) is { } answer)
        {
            series.Add(answer, measured: answer.Status == (int)HttpStatusCode.ServiceUnavailable);
            // A shed agent is still never verified; one that got through is cached now, so the next one is asked for.
            if (answer.Status != (int)HttpStatusCode.ServiceUnavailable)
            {
                next++;
            }
            await PauseAsync(stop);
        }
        return series.ToSeries();
    }

    /// <summary>The answer, or null once the storm is over (a request cut short by its end is not counted).</summary>
    private static async Task<TokenAnswer?> RequestAsync(TokenClient client, SeededAgent agent, CancellationToken stop)
    {
        if (stop.IsCancellationRequested)
        {
            return null;
        }
        try
        {
            return await client.RequestAsync(agent, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (HttpRequestException e)
        {
            return new TokenAnswer(0, e.Message, TimeSpan.Zero);
        }
    }

    private static async Task PauseAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(Pause, stop);
        }
        catch (OperationCanceledException)
        {
            // the storm is over: the next request is not sent
        }
    }

    private sealed class Recorder(string name)
    {
        private readonly Dictionary<int, int> _statuses = [];
        private readonly List<TimeSpan> _latencies = [];

        public void Add(TokenAnswer answer, bool measured)
        {
            _statuses[answer.Status] = _statuses.GetValueOrDefault(answer.Status) + 1;
            if (measured)
            {
                _latencies.Add(answer.Elapsed);
            }
        }

        public ProbeSeries ToSeries()
        {
            _latencies.Sort();
            return new ProbeSeries(name, _statuses, _latencies.Count, Percentile(0.50), Percentile(0.99));
        }

        /// <summary>Nearest rank, of the sorted latencies.</summary>
        private TimeSpan? Percentile(double p) =>
            _latencies.Count == 0 ? null : _latencies[Math.Max(0, (int)Math.Ceiling(p * _latencies.Count) - 1)];
    }
}
