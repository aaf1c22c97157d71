using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentIdp.Testing;

/// <summary>Runs a service's built assembly as its own process, as an operator would, to watch how it starts, serves, stops or fails.</summary>
public static partial class ServiceProcess
{
    public sealed record Outcome(int? ExitCode, string Output);

    /// <summary>Starts <c>dotnet {assembly}</c> with exactly <paramref name="environment"/> added; returns its exit code, or null if it was still running at the deadline.</summary>
    public static async Task<Outcome> RunAsync(string assemblyPath, IReadOnlyDictionary<string, string?> environment, TimeSpan deadline)
    {
        await using var service = Running.Start(assemblyPath, environment);
        var exitCode = await service.WaitForExitAsync(deadline);
        return new Outcome(exitCode, service.Output);
    }

    /// <summary>
    /// Starts <c>dotnet {assembly}</c> with <paramref name="environment"/> added (ASPNETCORE_URLS defaults to a
    /// free port of 127.0.0.1) and waits until it listens and <c>GET /health/ready</c> answers 200.
    /// </summary>
    public static async Task<Running> StartAsync(string assemblyPath, IReadOnlyDictionary<string, string?> environment, TimeSpan? deadline = null)
    {
        var service = Running.Start(assemblyPath, environment);
        try
        {
            await service.WaitUntilReadyAsync(deadline ?? TimeSpan.FromSeconds(60));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>A service process this test started. Disposing it kills it if it is still running.</summary>
    public sealed partial class Running : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Running(Process process) => _process = process;

        public int Id => _process.Id;

        /// <summary>Where it listens, as it said when it started ("Now listening on: ...").</summary>
        public Uri? BaseAddress => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : null;

        /// <summary>Everything it printed, standard output and error interleaved as they came.</summary>
        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public bool HasExited => _process.HasExited;

        internal static Running Start(string assemblyPath, IReadOnlyDictionary<string, string?> environment)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(assemblyPath);
            foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AGENTIDP_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal) ||
                k is "DATABASE_URL" or "ISSUER" or "SIGNING_KEY_ENCRYPTION_KEY" or "VAULT_ADDR" or "ASPNETCORE_ENVIRONMENT").ToList())
            {
                start.Environment.Remove(name);
            }
            start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            var process = new Process { StartInfo = start };
            var service = new Running(process);
            process.OutputDataReceived += (_, e) => service.Record(e.Data);
            process.ErrorDataReceived += (_, e) => service.Record(e.Data);
            if (!process.Start())
            {
                throw new InvalidOperationException("dotnet did not start.");
            }
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return service;
        }

        /// <summary>Sends SIGTERM, as Kubernetes does to stop a pod (and <c>docker stop</c> a container).</summary>
        public void SignalTerm()
        {
            if (Kill(_process.Id, SigTerm) != 0)
            {
                throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
            }
        }

        /// <summary>Its exit code once it has ended and its output is read; null if it is still running after <paramref name="deadline"/>.</summary>
        public async Task<int?> WaitForExitAsync(TimeSpan deadline)
        {
            using var timeout = new CancellationTokenSource(deadline);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            _process.WaitForExit(); // drains the output
            return _process.ExitCode;
        }

        internal async Task WaitUntilReadyAsync(TimeSpan deadline)
        {
            using var timeout = new CancellationTokenSource(deadline);
            var exited = _process.WaitForExitAsync(timeout.Token);
            if (await Task.WhenAny(_listening.Task, exited) != _listening.Task)
            {
                throw new InvalidOperationException($"The service did not start listening:\n{Output}");
            }
            using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            while (true)
            {
                timeout.Token.ThrowIfCancellationRequested();
                try
                {
                    using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), timeout.Token);
                    if (ready.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // not answering yet
                }
                catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
                {
                    // no answer within the client's timeout: starting still
                }
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"The service exited with code {_process.ExitCode} before it was ready:\n{Output}");
                }
                await Task.Delay(100, timeout.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // never started
            }
            _process.Dispose();
        }

        private void Record(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_output)
            {
                _output.AppendLine(line);
            }
            // "Now listening on: http://127.0.0.1:41234", in the plain or the JSON console format.
            if (!_listening.Task.IsCompleted && ListeningOn().Match(line) is { Success: true } match)
            {
                _listening.TrySetResult(new Uri(match.Groups["url"].Value));
            }
        }

        [GeneratedRegex(@"Now listening on: (?<url>https?://[^\s""\\]+)")]
        private static partial Regex ListeningOn();
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
