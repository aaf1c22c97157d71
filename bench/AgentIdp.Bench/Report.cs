using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using static System.FormattableString;

namespace AgentIdp.Bench;

/// <summary>The run as markdown: the machine and settings, one table with a row per scenario, then the storm probe, targets and notes.</summary>
internal sealed class Report(MachineInfo machine, BenchOptions options, DateTimeOffset started, double verifyRate, IReadOnlyList<ScenarioResult> results)
{
    /// <summary>Decimal megabytes: the unit targets are stated in.</summary>
    private const double Megabyte = 1_000_000;

    private readonly StringBuilder _text = new();

    public bool TargetsMet => results.SelectMany(result => result.Targets).All(target => target.Met);

    public static string Megabytes(long bytes) => Invariant($"{bytes / Megabyte:N0} MB");

    public string ToMarkdown()
    {
        _text.Clear();
        WriteHeader();
        WriteTable();
        WriteProbes();
        WriteTargets();
        WriteNotes();
        return _text.ToString();
    }

    private void WriteHeader()
    {
        Line("# AgentIdP token endpoint: load benchmark");
        Line();
        if (options.Smoke)
        {
            Line("**Smoke run**: a few seconds per scenario and few agents, to show that every part works. Its figures mean nothing.");
            Line();
        }
        Line(Invariant($"- machine: {machine.Cores} cores (nproc), {machine.CpuModel}, {machine.MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB memory; {RuntimeInformation.FrameworkDescription}"));
        Line(Invariant($"- date: {started:yyyy-MM-dd HH:mm} UTC"));
        Line(Invariant($"- bcrypt cost: {options.BcryptCost} (cold bcrypt and cold storm agents, and the AuthServer's BCRYPT_COST); warm scenarios' agents: {BenchOptions.WarmAgentsBcryptCost}, served from the cache after their first request"));
        Line(Invariant($"- duration: {options.Duration.TotalSeconds:0} s measured per scenario, after a {options.WarmUp.TotalSeconds:0} s wrk warm-up (cold storm: none); wrk -t{WrkRun.Threads} -c{BenchOptions.Connections} (cold storm: -c{BenchOptions.StormConnections})"));
        Line(Invariant($"- cores' verify rate: {Rate(verifyRate)} bcrypt verifications/s at cost {options.BcryptCost} ({machine.Cores} threads, {options.VerifyMeasurement.TotalSeconds:0} s)"));
        Line();
    }

    private void WriteTable()
    {
        var baselines = results.ToDictionary(result => result.Name, result => result.Load.TokensPerSecond, StringComparer.Ordinal);
        baselines[Scenarios.VerifyRate] = verifyRate;
        Line("| scenario | tokens/s | ratio | p50 | p99 | non-2xx | socket errors | RSS |");
        Line("|---|---:|---|---:|---:|---:|---:|---:|");
        foreach (var result in results)
        {
            var load = result.Load;
            Line($"| {result.Name} | {Rate(load.TokensPerSecond)} | {Ratio(result, baselines)} | {Latency(load.LatencyP50)} | {Latency(load.LatencyP99)} | {Non2xx(load)} | {SocketErrors(load.SocketErrors)} | {Megabytes(result.ResidentSetBytes)} |");
        }
        Line();
        Line("tokens/s counts 2xx answers only. A ratio is a row's tokens/s over its baseline's, both measured in this run: " +
            "the machine is shared, so only ratios within one run compare. p50 and p99 are wrk's, over every answer " +
            "within wrk's 2 s timeout; slower answers are counted as socket timeouts instead. " +
            "RSS is the server's VmRSS at the end of its scenario.");
    }

    private void WriteProbes()
    {
        var probes = results.SelectMany(result => result.Probes).ToList();
        if (probes.Count == 0)
        {
            return;
        }
        Line();
        Line("Beside the cold storm, one request at a time (every 10 ms) from the bench:");
        Line();
        Line("| probe | requests | answers | p50 | p99 |");
        Line("|---|---:|---|---:|---:|");
        foreach (var probe in probes)
        {
            var answers = probe.Statuses.Count == 0
                ? "none"
                : string.Join(", ", probe.Statuses.OrderBy(s => s.Key).Select(s => Invariant($"{s.Key}: {s.Value:N0}")));
            var p50 = probe.P50 is { } median ? Latency(median) : "—";
            var p99 = probe.P99 is { } tail ? Latency(tail) : "—";
            Line(Invariant($"| {probe.Name} | {probe.Statuses.Values.Sum():N0} | {answers} | {p50} | {p99} |"));
        }
    }

    private void WriteTargets()
    {
        var targets = results.SelectMany(result => result.Targets).ToList();
        if (targets.Count == 0)
        {
            return;
        }
        Line();
        Line(options.Smoke ? "Targets (not checked in a smoke run):" : "Targets:");
        foreach (var target in targets)
        {
            Line($"- {(target.Met ? "met" : "MISSED")}: {target.Description}");
        }
    }

    private void WriteNotes()
    {
        var notes = results.SelectMany(result => result.Notes).ToList();
        if (notes.Count == 0)
        {
            return;
        }
        Line();
        Line("Notes:");
        foreach (var note in notes)
        {
            Line($"- {note}");
        }
    }

    /// <summary>Appends a line ending in \n alone, whatever the platform: the file is the same everywhere.</summary>
    private void Line(string line = "") => _text.Append(line).Append('\n');

    private static string Ratio(ScenarioResult result, Dictionary<string, double> baselines)
    {
        if (result.Baseline is null)
        {
            return "—";
        }
        return baselines.TryGetValue(result.Baseline, out var baseline) && baseline > 0
            ? Invariant($"{result.Load.TokensPerSecond / baseline:0.00} × {result.Baseline}")
            : $"— ({result.Baseline} not run)";
    }

    private static string Rate(double perSecond) => perSecond.ToString(perSecond >= 100 ? "N0" : "N1", CultureInfo.InvariantCulture);

    private static string Latency(TimeSpan latency) => latency.TotalMilliseconds switch
    {
        < 1 => Invariant($"{latency.TotalMicroseconds:0} µs"),
        < 1000 => Invariant($"{latency.TotalMilliseconds:0.0} ms"),
        _ => Invariant($"{latency.TotalSeconds:0.00} s"),
    };

    private static string Non2xx(WrkResult load)
    {
        if (load.Non2xx == 0)
        {
            return "0";
        }
        var statuses = load.Statuses.Where(s => s.Key is < 200 or > 299).OrderBy(s => s.Key).Select(s => Invariant($"{s.Key}: {s.Value:N0}"));
        return Invariant($"{load.Non2xx:N0} ({string.Join(", ", statuses)})");
    }

    private static string SocketErrors(SocketErrors errors)
    {
        if (errors.Total == 0)
        {
            return "0";
        }
        var kinds = new (string Kind, long Count)[] { ("connect", errors.Connect), ("read", errors.Read), ("write", errors.Write), ("timeout", errors.Timeout) }
            .Where(kind => kind.Count > 0)
            .Select(kind => Invariant($"{kind.Kind} {kind.Count:N0}"));
        return Invariant($"{errors.Total:N0} ({string.Join(", ", kinds)})");
    }
}
