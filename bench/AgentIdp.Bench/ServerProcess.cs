using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AgentIdp.Bench;

/// <summary>
/// A service this run started as <c>dotnet {assembly}</c> (an AuthServer or a bare signer) on 127.0.0.1
/// and a port of its own; started once <c>GET /health/ready</c> answers 200.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly ChildProcess _process;

    private ServerProcess(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public string Name => _process.Name;

    /// <summary>An address on a port that was free a moment ago; the server binds it at once.</summary>
    public static Uri NewAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
    }

    public static async Task<ServerProcess> StartAsync(
        string name, Uri address, string assembly, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        string logPath, CancellationToken cancellationToken)
    {
        Progress.Report($"starting {name} on {address}");
        var server = new ServerProcess(ChildProcess.Start(name, "dotnet", [assembly, .. arguments], environment, logPath), address);
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Fails the run if the server has ended: a server that died under load has no figures to give.</summary>
    public void EnsureRunning(string during)
    {
        if (_process.HasExited)
        {
            throw Failure($"exited {during}");
        }
    }

    /// <summary>A failure of this server, with its log's last lines, and its exit code if it has ended.</summary>
    public BenchmarkFailure Failure(string what)
    {
        var state = _process.HasExited ? $" (exit code {_process.ExitCode})" : "";
        return new BenchmarkFailure($"{Name}{state}: {what} (log: {_process.LogPath}):\n{_process.Tail}");
    }

    /// <summary>Its resident memory now: VmRSS of /proc/{pid}/status.</summary>
    public long ResidentSetBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            ?? throw new BenchmarkFailure($"/proc/{_process.Id}/status has no VmRSS line ({Name}).");
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    public void Dispose() => _process.Dispose();

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                throw Failure("exited before it was ready");
            }
            try
            {
                using var response = await http.GetAsync(new Uri("health/ready", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // no answer within the client's timeout: starting still
            }
            if (Stopwatch.GetElapsedTime(started) > StartTimeout)
            {
                throw Failure($"not ready after {StartTimeout.TotalSeconds:0} s");
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
    }
}
