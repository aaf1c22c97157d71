using System.Text.RegularExpressions;

namespace AgentIdp.Deploy.Tests;

/// <summary>
/// What the repository's Dockerfile says about each image: its stages, each stage's ENV, EXPOSE, USER
/// and ENTRYPOINT, and where each project's published files land in it (<c>dotnet publish P -o OUT</c> in
/// the build stage, <c>COPY --from=build OUT DEST</c> in the image's stage).
/// </summary>
internal sealed partial record ImageDefinition(string Target, IReadOnlyDictionary<string, string> Env, IReadOnlyList<int> Exposed,
    string? User, IReadOnlyList<string> Entrypoint, IReadOnlyDictionary<string, string> ProjectFolders)
{
    public static IReadOnlyDictionary<string, ImageDefinition> Read()
    {
        var stages = new List<(string Name, List<(string Instruction, string Arguments)> Lines)>();
        var text = ContinuedLine().Replace(File.ReadAllText(Repository.PathOf("Dockerfile")), " ");
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var (instruction, arguments) = (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (instruction == "FROM")
            {
                var named = FromAs().Match(arguments);
                stages.Add((named.Success ? named.Groups[1].Value : "", []));
            }
            else
            {
                stages[^1].Lines.Add((instruction, arguments));
            }
        }

        var published = stages.SelectMany(stage => stage.Lines)
            .Where(line => line.Instruction == "RUN")
            .SelectMany(line => Publish().Matches(line.Arguments))
            .Select(match => (Project: Path.GetFileNameWithoutExtension(match.Groups[1].Value), Output: match.Groups[2].Value.TrimEnd('/')))
            .ToList();

        return stages.Where(stage => stage.Name.Length > 0).ToDictionary(stage => stage.Name, stage =>
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            var exposed = new List<int>();
            string? user = null;
            IReadOnlyList<string> entrypoint = [];
            var folders = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (instruction, arguments) in stage.Lines)
            {
                switch (instruction)
                {
                    case "ENV":
                        var pair = arguments.Split('=', 2);
                        env[pair[0]] = pair[1];
                        break;
                    case "EXPOSE":
                        exposed.AddRange(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(port => int.Parse(port.Split('/')[0])));
                        break;
                    case "USER":
                        user = arguments;
                        break;
                    case "ENTRYPOINT":
                        entrypoint = System.Text.Json.JsonSerializer.Deserialize<string[]>(arguments)!;
                        break;
                    case "COPY" when CopyFromBuild().Match(arguments) is { Success: true } copy:
                        var (source, destination) = (copy.Groups[1].Value.TrimEnd('/'), copy.Groups[2].Value.TrimEnd('/'));
                        foreach (var (project, output) in published.Where(p => p.Output == source || p.Output.StartsWith(source + "/", StringComparison.Ordinal)))
                        {
                            folders[project] = destination + output[source.Length..];
                        }
                        break;
                }
            }
            return new ImageDefinition(stage.Name, env, exposed, user, entrypoint, folders);
        });
    }

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex ContinuedLine();

    [GeneratedRegex(@"\bAS\s+(\S+)$", RegexOptions.IgnoreCase)]
    private static partial Regex FromAs();

    [GeneratedRegex(@"dotnet publish\s+(\S+\.csproj)\b[^&]*?\s-o\s+(\S+)")]
    private static partial Regex Publish();

    [GeneratedRegex(@"^--from=build\s+(\S+)\s+(\S+)$")]
    private static partial Regex CopyFromBuild();
}
