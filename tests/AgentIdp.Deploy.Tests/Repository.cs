using System.ComponentModel;
using System.Diagnostics;

namespace AgentIdp.Deploy.Tests;

/// <summary>The repository the tests run in, and what they read from it.</summary>
internal static class Repository
{
    public static readonly string Root = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The kustomizations the tests render: the base and every overlay.</summary>
    public static IEnumerable<string> Kustomizations =>
        new[] { "deploy/k8s/base" }.Concat(Directory.GetDirectories(PathOf("deploy/k8s/overlays"))
            .Select(dir => "deploy/k8s/overlays/" + Path.GetFileName(dir)).Order(StringComparer.Ordinal));

    /// <summary>What <c>kubectl kustomize</c> renders from a folder. kubectl is required: without it the tests fail, they do not skip.</summary>
    public static string Kustomize(string kustomization)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(PathOf(kustomization));
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                "kubectl is not on PATH: the deploy tests render deploy/k8s with `kubectl kustomize`. Install kubectl and run them again.", e);
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"kubectl kustomize {kustomization} failed: {error.Result}");
            }
            return output;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AgentIdp.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"{AppContext.BaseDirectory} is not inside the AgentIdP repository.");
    }
}
