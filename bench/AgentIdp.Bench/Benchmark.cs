namespace AgentIdp.Bench;

/// <summary>
/// One run: the cores' bcrypt rate first (nothing else running yet), then each scenario in turn, each
/// against servers of its own; then the table, on standard output and in bench/results/latest.md.
/// </summary>
internal static class Benchmark
{
    public const int Succeeded = 0;
    public const int Broken = 1;
    public const int UsageError = 2;
    public const int TargetMissed = 3;
    public const int Interrupted = 130;

    public static async Task<int> RunAsync(BenchOptions options)
    {
        using var lifetime = new RunLifetime();
        var cancellationToken = lifetime.Stopping;
        BenchEnvironment? bench = null;
        try
        {
            var layout = RepositoryLayout.Locate();
            WrkRun.EnsureInstalled();
            var machine = MachineInfo.Read();
            var started = DateTimeOffset.UtcNow;

            Progress.Report($"measuring what {machine.Cores} cores verify at bcrypt cost {options.BcryptCost}");
            var verifyRate = VerifyCapacity.Measure(options.BcryptCost, options.VerifyMeasurement, cancellationToken);

            bench = await BenchEnvironment.StartAsync(options, layout, cancellationToken);
            var results = new List<ScenarioResult>();
            foreach (var scenario in new Scenarios(bench).Selected())
            {
                Progress.Report($"scenario {scenario.Key}");
                results.AddRange(await scenario.RunAsync(cancellationToken));
            }

            var report = new Report(machine, options, started, verifyRate, results);
            var markdown = report.ToMarkdown();
            Directory.CreateDirectory(layout.ResultsDirectory);
            var saved = Path.Combine(layout.ResultsDirectory, "latest.md");
            await File.WriteAllTextAsync(saved, markdown, CancellationToken.None);
            await Console.Out.WriteAsync(markdown);
            Progress.Report($"written to {saved}");
            bench.DeleteWorkDirectory = true;
            return options.Smoke || report.TargetsMet ? Succeeded : TargetMissed;
        }
        catch (BenchmarkFailure failure)
        {
            await Console.Error.WriteLineAsync($"bench: {failure.Message}");
            return Broken;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("bench: interrupted; child processes stopped.");
            if (bench is not null)
            {
                bench.DeleteWorkDirectory = true;
            }
            return Interrupted;
        }
        finally
        {
            if (bench is not null)
            {
                await bench.DisposeAsync();
                if (!bench.DeleteWorkDirectory)
                {
                    await Console.Error.WriteLineAsync($"bench: the servers' and wrk's logs are kept in {bench.WorkDirectory}");
                }
            }
        }
    }
}
