using System.Globalization;

namespace AgentIdp.Bench;

/// <summary>What the run is doing, on standard error: standard output carries the table alone.</summary>
internal static class Progress
{
    public static void Report(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench {DateTime.Now:HH:mm:ss}] {message}"));
}
