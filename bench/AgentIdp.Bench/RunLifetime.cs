using System.Runtime.InteropServices;

namespace AgentIdp.Bench;

/// <summary>
/// Ctrl-C, SIGTERM and SIGHUP cancel the run, so that it unwinds and stops what it started; a second one
/// kills the child processes and lets the signal end the process at once. Whether the run ends normally,
/// by an error or by a signal, every child process still running is killed at exit (and PostgreSQL is
/// stopped by <see cref="AgentIdp.Testing.PostgresServer"/>).
/// </summary>
internal sealed class RunLifetime : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly PosixSignalRegistration[] _signals;

    public RunLifetime()
    {
        AppDomain.CurrentDomain.ProcessExit += KillChildren;
        _signals = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(signal => PosixSignalRegistration.Create(signal, OnSignal))];
    }

    public CancellationToken Stopping => _stopping.Token;

    private void OnSignal(PosixSignalContext context)
    {
        if (_stopping.IsCancellationRequested)
        {
            ChildProcess.KillAll();
            return;
        }
        context.Cancel = true;
        _stopping.Cancel();
    }

    private static void KillChildren(object? sender, EventArgs e) => ChildProcess.KillAll();

    public void Dispose()
    {
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }
        ChildProcess.KillAll();
        _stopping.Dispose();
    }
}
