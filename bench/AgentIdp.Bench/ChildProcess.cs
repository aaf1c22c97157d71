using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;

namespace AgentIdp.Bench;

/// <summary>
/// A process this run started: an AuthServer, a bare signer, wrk. It gets the environment given and, of the
/// bench's own, only what finding programs needs, so no DATABASE_URL, VAULT_* or ISSUER of the caller leaks
/// in. Its output goes to a log file, whose last lines are kept for error messages. It is killed when
/// disposed, and <see cref="KillAll"/> kills whatever is left when the run ends, however it ends.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private const int KeptLines = 200;
    private static readonly string[] InheritedVariables = ["PATH", "HOME", "USER", "LANG", "TMPDIR", "DOTNET_ROOT"];
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _lastLines = new();
    private readonly Lock _outputGate = new();
    private bool _started;
    private bool _disposed;

    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        LogPath = logPath;
        _process = process;
        _log = new StreamWriter(logPath) { AutoFlush = true }; // readable while it runs, and complete if the run is killed
    }

    public string Name { get; }
    public string LogPath { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines it printed (standard output and error, interleaved as they came).</summary>
    public IReadOnlyList<string> LastLines
    {
        get
        {
            lock (_outputGate)
            {
                return [.. _lastLines];
            }
        }
    }

    /// <summary>Its last lines as one text, for an error message.</summary>
    public string Tail => string.Join('\n', LastLines.TakeLast(40));

    public static ChildProcess Start(
        string name, string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        foreach (var variable in InheritedVariables)
        {
            if (Environment.GetEnvironmentVariable(variable) is { } value)
            {
                start.Environment[variable] = value;
            }
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var child = new ChildProcess(name, new Process { StartInfo = start }, logPath);
        child._process.OutputDataReceived += (_, e) => child.Record(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Record(e.Data);
        try
        {
            child._process.Start();
        }
        catch (Win32Exception e)
        {
            child.Dispose();
            throw new BenchmarkFailure($"{program} could not be started ({name}): {e.Message}");
        }
        child._started = true;
        Running[child._process.Id] = child._process;
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until it has ended and all its output is read; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Kills every child process still running: at the end of the run, or on a second Ctrl-C.</summary>
    public static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            Kill(process);
        }
    }

    public void Dispose()
    {
        if (_started)
        {
            Kill(_process);
            Running.TryRemove(_process.Id, out _);
        }
        _process.Dispose();
        lock (_outputGate)
        {
            _disposed = true;
            _log.Dispose();
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_outputGate)
        {
            if (_disposed)
            {
                return;
            }
            _log.WriteLine(line);
            _lastLines.Enqueue(line);
            if (_lastLines.Count > KeptLines)
            {
                _lastLines.Dequeue();
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            // it ended meanwhile
        }
    }
}
