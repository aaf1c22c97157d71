namespace AgentIdp.Bench;

/// <summary>Where the bench finds what it runs: its own assembly, the AuthServer built alongside it, token.lua, and where results go.</summary>
internal sealed record RepositoryLayout(string Root, string BenchAssembly, string AuthServerAssembly, string TokenScript, string ResultsDirectory)
{
    public static RepositoryLayout Locate()
    {
        var output = AppContext.BaseDirectory;
        var root = Ancestors(output).FirstOrDefault(dir => File.Exists(Path.Combine(dir, "AgentIdp.sln")))
            ?? throw new BenchmarkFailure($"{output} is not inside the AgentIdP repository: run bench/run.sh.");
        // The AuthServer's output mirrors the bench's own (bin/<Configuration>/<TargetFramework>): the same build made both.
        var outputInProject = Path.GetRelativePath(Path.Combine(root, "bench", "AgentIdp.Bench"), output);
        var authServer = Path.GetFullPath(Path.Combine(root, "src", "AuthServer", outputInProject, "AuthServer.dll"));
        if (!File.Exists(authServer))
        {
            throw new BenchmarkFailure($"{authServer} is missing: build with bench/run.sh.");
        }
        return new RepositoryLayout(
            root,
            typeof(RepositoryLayout).Assembly.Location,
            authServer,
            Path.Combine(root, "bench", "token.lua"),
            Path.Combine(root, "bench", "results"));
    }

    private static IEnumerable<string> Ancestors(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            yield return dir.FullName;
        }
    }
}
