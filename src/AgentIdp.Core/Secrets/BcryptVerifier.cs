using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Secrets;

public enum BcryptCheck { Match, Mismatch, Shed }

/// <summary>
/// Runs bcrypt on SECRET_VERIFY_CONCURRENCY threads of its own behind a SECRET_VERIFY_QUEUE-long queue: a
/// check that finds the queue full is shed (<see cref="BcryptCheck.Shed"/>), never queued without bound.
/// </summary>
public sealed partial class BcryptVerifier : IDisposable
{
    private readonly BlockingCollection<Work> _queue;
    private readonly SecretHasher _hasher;
    private readonly ILogger<BcryptVerifier> _logger;
    private long _checksRun;

    public BcryptVerifier(SecretHasher hasher, IOptions<SecretVerificationOptions> options, ILogger<BcryptVerifier> logger)
    {
        _hasher = hasher;
        _logger = logger;
        _queue = new BlockingCollection<Work>(new ConcurrentQueue<Work>(), options.Value.QueueLimit);
        for (var i = 0; i < options.Value.Concurrency; i++)
        {
            new Thread(Run) { IsBackground = true, Name = $"bcrypt-{i + 1}" }.Start();
        }
    }

    /// <summary>bcrypt checks run since the process started, decoys included: what the cores have spent on secrets.</summary>
    public long ChecksRun => Interlocked.Read(ref _checksRun);

    /// <summary>Whether the queue is full now: a check asked for at this moment would be shed.</summary>
    public bool IsSaturated => _queue.Count >= _queue.BoundedCapacity;

    /// <summary>Checks <paramref name="secret"/> against a stored bcrypt hash, or sheds the check when the queue is full.</summary>
    public Task<BcryptCheck> VerifyAsync(string secret, string storedHash, CancellationToken cancellationToken) =>
        EnqueueAsync(new Work(secret, storedHash, cancellationToken));

    /// <summary>
    /// Spends what a check costs and fails: a request naming no credential must take as long as one with a
    /// wrong secret, and be shed the same way.
    /// </summary>
    public Task<BcryptCheck> VerifyDecoyAsync(string secret, CancellationToken cancellationToken) =>
        EnqueueAsync(new Work(secret, StoredHash: null, cancellationToken));

    private Task<BcryptCheck> EnqueueAsync(Work work)
    {
        try
        {
            if (!_queue.TryAdd(work))
            {
                return Task.FromResult(BcryptCheck.Shed);
            }
            // A caller that goes away gets its answer at once; the worker then skips the check.
            work.Cancellation.Register(static state => ((Work)state!).Result.TrySetCanceled(), work);
            return work.Result.Task;
        }
        catch (InvalidOperationException)
        {
            return Task.FromResult(BcryptCheck.Shed); // shutting down
        }
    }

    private void Run()
    {
        LowerThisThreadsPriority();
        foreach (var work in _queue.GetConsumingEnumerable())
        {
            if (work.Cancellation.IsCancellationRequested)
            {
                work.Result.TrySetCanceled(work.Cancellation); // its caller has gone: the check would be wasted
                continue;
            }
            Interlocked.Increment(ref _checksRun);
            try
            {
                if (work.StoredHash is null)
                {
                    _hasher.VerifyDecoy(work.Secret);
                    work.Result.TrySetResult(BcryptCheck.Mismatch);
                }
                else
                {
                    work.Result.TrySetResult(SecretHasher.Verify(work.Secret, work.StoredHash) ? BcryptCheck.Match : BcryptCheck.Mismatch);
                }
            }
            catch (Exception e)
            {
                LogCheckFailed(e);
                work.Result.TrySetException(e);
            }
        }
    }

    public void Dispose() => _queue.CompleteAdding();

    /// <summary>
    /// bcrypt threads run at a lower priority (nice 10 on Linux) than the request threads: a cold check
    /// uses whatever the cores have to spare, and a cached token or a shed answer never waits behind one.
    /// </summary>
    private static void LowerThisThreadsPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            _ = NativeMethods.setpriority(NativeMethods.PrioProcess, NativeMethods.gettid(), 10); // best effort
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // a libc without gettid or setpriority: the checks run at normal priority
        }
    }

    private static class NativeMethods
    {
        public const int PrioProcess = 0;

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int setpriority(int which, int who, int priority);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int gettid();
    }

    private sealed record Work(string Secret, string? StoredHash, CancellationToken Cancellation)
    {
        public TaskCompletionSource<BcryptCheck> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A bcrypt check failed unexpectedly.")]
    private partial void LogCheckFailed(Exception exception);
}
