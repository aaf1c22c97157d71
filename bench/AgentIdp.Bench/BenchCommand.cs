using System.CommandLine;

namespace AgentIdp.Bench;

/// <summary>
/// <c>AgentIdp.Bench [--smoke] [--growth] [--duration SECONDS] [--bcrypt-cost N] [--only KEY,…]</c> runs the
/// benchmark (bench/run.sh builds it and passes its arguments on); <c>AgentIdp.Bench bare --alg RS256|ES256
/// --urls URL</c> is the bare signing endpoint the benchmark starts as a child process.
/// </summary>
internal static class BenchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var smoke = new Option<bool>("--smoke")
        {
            Description = "A few seconds per scenario and few agents: shows that every part works; the figures mean nothing.",
        };
        var growth = new Option<bool>("--growth")
        {
            Description = "Also compare 1,000 with 100,000 warm agents, and check the AuthServer's memory with 100,000 cached.",
        };
        var duration = new Option<int?>("--duration") { Description = "Seconds of each measured wrk run (default 15; 2 with --smoke)." };
        duration.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 3600)
            {
                result.AddError("--duration must be from 1 to 3600 seconds.");
            }
        });
        var bcryptCost = new Option<int?>("--bcrypt-cost")
        {
            Description = "bcrypt cost of the cold scenarios' agents and the AuthServer's BCRYPT_COST (default 10, the product's; 4 with --smoke).",
        };
        bcryptCost.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 4 or > 31)
            {
                result.AddError("--bcrypt-cost must be from 4 to 31.");
            }
        });
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these scenarios (comma-separated): " + string.Join(", ", Scenarios.Keys) + ".",
            AllowMultipleArgumentsPerToken = true,
        };
        only.Validators.Add(result =>
        {
            foreach (var key in SplitKeys(result.GetValueOrDefault<string[]>()).Where(key => !Scenarios.Keys.Contains(key)))
            {
                result.AddError($"--only: there is no scenario '{key}'; the scenarios are {string.Join(", ", Scenarios.Keys)}.");
            }
        });

        var root = new RootCommand("Load benchmark of the AuthServer's token endpoint: a table of tokens/s, each a ratio of a baseline measured in the same run.")
        {
            smoke, growth, duration, bcryptCost, only, BareSigner.CreateCommand(),
        };
        root.SetAction((parse, _) => Benchmark.RunAsync(BenchOptions.Create(
            parse.GetValue(smoke), parse.GetValue(growth), parse.GetValue(duration), parse.GetValue(bcryptCost), SplitKeys(parse.GetValue(only)))));
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine($"bench: {error.Message}");
            }
            Console.Error.WriteLine("bench: see --help");
            return Task.FromResult(Benchmark.UsageError);
        }
        // The benchmark handles Ctrl-C itself (RunLifetime): it must stop its child processes before it ends.
        return parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static IReadOnlyList<string> SplitKeys(string[]? values) =>
        [.. (values ?? []).SelectMany(value => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}
