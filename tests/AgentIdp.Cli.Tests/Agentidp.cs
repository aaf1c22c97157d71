namespace AgentIdp.Cli.Tests;

internal sealed record Run(int ExitCode, string Output, string Error);

/// <summary>Runs <c>agentidp</c> in-process, as an operator would from a shell, with the given settings instead of the environment's.</summary>
internal static class Agentidp
{
    public static async Task<Run> RunAsync(IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await AgentIdpCommand.RunAsync(args, settings, output, error);
        return new Run(exitCode, output.ToString(), error.ToString());
    }
}
