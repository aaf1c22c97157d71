using System.Diagnostics;
using System.Text;

namespace AgentIdp.Testing;

/// <summary>Runs a service's built assembly as its own process, as an operator would, to watch how it starts or fails.</summary>
public static class ServiceProcess
{
    public sealed record Outcome(int? ExitCode, string Output);

    /// <summary>Starts <c>dotnet {assembly}</c> with exactly <paramref name="environment"/> added; returns its exit code, or null if it was still running at the deadline.</summary>
    public static async Task<Outcome> RunAsync(string assemblyPath, IReadOnlyDictionary<string, string?> environment, TimeSpan deadline)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assemblyPath);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AGENTIDP_", StringComparison.Ordinal) ||
            k is "DATABASE_URL" or "ISSUER" or "SIGNING_KEY_ENCRYPTION_KEY" or "VAULT_ADDR").ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            process.WaitForExit(); // drains the output
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (output)
            {
                return new Outcome(null, output.ToString());
            }
        }
        lock (output)
        {
            return new Outcome(process.ExitCode, output.ToString());
        }
    }
}
