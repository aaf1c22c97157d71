using System.Globalization;

namespace AgentIdp.Bench;

/// <summary>
/// One run of wrk against the token endpoint with bench/token.lua, round-robin over the agents of a
/// credentials file: 2 threads, the given connections and duration. Answers slower than wrk's timeout
/// (its default, 2 s, as a client library's would be) are counted as socket timeouts and left out of the
/// latency percentiles: wrk never abandons a request, it only stops timing it.
/// </summary>
internal sealed record WrkRun(Uri Server, string CredentialsFile, int Connections)
{
    public const int Threads = 2;
    private const string Program = "wrk";

    /// <summary>Fails early, with the way to install it, when wrk is not on PATH.</summary>
    public static void EnsureInstalled()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator).Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, Program))))
        {
            throw new BenchmarkFailure("wrk is not installed: apt-get install wrk");
        }
    }

    public async Task<WrkResult> RunAsync(BenchEnvironment bench, string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        Progress.Report($"wrk: {name}, {duration.TotalSeconds:0} s, {Connections} connections");
        List<string> arguments =
        [
            string.Create(CultureInfo.InvariantCulture, $"-t{Threads}"),
            string.Create(CultureInfo.InvariantCulture, $"-c{Connections}"),
            string.Create(CultureInfo.InvariantCulture, $"-d{Math.Max(1, (int)duration.TotalSeconds)}s"),
            "--latency",
        ];
        arguments.AddRange(["-s", bench.Layout.TokenScript, new Uri(Server, "api/v1/token").ToString(), "--", CredentialsFile]);
        using var wrk = ChildProcess.Start($"wrk {name}", Program, arguments, new Dictionary<string, string>(), bench.WorkFile(name, "wrk.log"));
        var exitCode = await wrk.WaitForExitAsync(cancellationToken);
        if (exitCode != 0)
        {
            throw new BenchmarkFailure($"wrk ({name}) exited with {exitCode} (log: {wrk.LogPath}):\n{wrk.Tail}");
        }
        return WrkResult.Parse(wrk.LastLines)
            ?? throw new BenchmarkFailure($"wrk ({name}) printed no readable {WrkResult.Marker.Trim()} line (log: {wrk.LogPath}):\n{wrk.Tail}");
    }
}
