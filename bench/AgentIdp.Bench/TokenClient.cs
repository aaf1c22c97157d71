using System.Diagnostics;
using System.Net;

namespace AgentIdp.Bench;

/// <summary>
/// Token requests from the bench itself (client_secret_post, as token.lua sends them): the one request
/// that must succeed before load, warming every agent, draining after a warm-up, and the cold storm's probe.
/// </summary>
internal sealed class TokenClient(ServerProcess server) : IDisposable
{
    /// <summary>Enough to keep a server busy while it checks secrets, well within what the bcrypt queue takes without shedding.</summary>
    private const int WarmingConcurrency = 8;
    private const int WarmingAttempts = 5;
    private static readonly Uri TokenPath = new("api/v1/token", UriKind.Relative);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    private readonly HttpClient _http = new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>One request, timed; a connection that fails throws <see cref="HttpRequestException"/>.</summary>
    public async Task<TokenAnswer> RequestAsync(SeededAgent agent, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = agent.ClientId,
            ["client_secret"] = agent.Secret,
        });
        var started = Stopwatch.GetTimestamp();
        using var response = await _http.PostAsync(TokenPath, form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new TokenAnswer((int)response.StatusCode, body, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The request that must get a token before any load is put on the server.</summary>
    public async Task<TokenAnswer> RequireTokenAsync(SeededAgent agent, CancellationToken cancellationToken)
    {
        var answer = await AnswerOrFailAsync(agent, "the first token request", cancellationToken);
        return answer.Status == (int)HttpStatusCode.OK
            ? answer
            : throw server.Failure($"the first token request (agent {agent}) was answered {answer.Status}: {answer.Body}");
    }

    /// <summary>
    /// Asks for a token until one is issued, after a wrk warm-up: wrk closes its connections when it ends, but
    /// the bcrypt checks they queued still run, and a measured run started at once would be shed behind them.
    /// The check queue is first in, first out: once this request is answered, the warm-up's checks are done.
    /// </summary>
    public async Task DrainAsync(SeededAgent agent, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var answer = await AnswerOrFailAsync(agent, "a token request after the warm-up", cancellationToken);
            if (answer.Status == (int)HttpStatusCode.OK)
            {
                return;
            }
            if (answer.Status != (int)HttpStatusCode.ServiceUnavailable || Stopwatch.GetElapsedTime(started) > DrainTimeout)
            {
                throw server.Failure($"after the warm-up, a token request (agent {agent}) was answered {answer.Status}: {answer.Body}");
            }
            await Task.Delay(RetryInterval, cancellationToken);
        }
    }

    /// <summary>Gets one token for every agent, so that a measured run finds each one's secret cached.</summary>
    public async Task WarmAsync(IReadOnlyList<SeededAgent> agents, CancellationToken cancellationToken)
    {
        Progress.Report($"warming {agents.Count:N0} agents on {server.Name}");
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = WarmingConcurrency, CancellationToken = cancellationToken },
            async (agent, ct) =>
            {
                for (var attempt = 1; ; attempt++)
                {
                    var answer = await AnswerOrFailAsync(agent, "warming", ct);
                    if (answer.Status == (int)HttpStatusCode.OK)
                    {
                        return;
                    }
                    // Shed by a busy bcrypt queue (another process on this machine may hold the cores): ask again, as Retry-After says.
                    if (answer.Status != (int)HttpStatusCode.ServiceUnavailable || attempt == WarmingAttempts)
                    {
                        throw server.Failure($"warming agent {agent} was answered {answer.Status}: {answer.Body}");
                    }
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
            });
        Progress.Report($"warmed {agents.Count:N0} agents in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
    }

    public void Dispose() => _http.Dispose();

    private async Task<TokenAnswer> AnswerOrFailAsync(SeededAgent agent, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await RequestAsync(agent, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw server.Failure($"{what} (agent {agent}) got no answer: {e.Message}");
        }
    }
}
