using Microsoft.Extensions.Time.Testing;

namespace AgentIdp.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells a test when the code under test starts a delay
/// (<c>Task.Delay(…, time)</c>, a one-shot timer). Advancing fake time before a loop has started its delay
/// would be lost, so a test waits for the delay first and then advances.
/// </summary>
public sealed class WatchedTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly List<TimeSpan> _delays = [];

    /// <summary>How many delays have started so far: a mark for <see cref="WaitForDelaysAsync"/>.</summary>
    public int DelaysStarted
    {
        get
        {
            lock (_delays)
            {
                return _delays.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (period == Timeout.InfiniteTimeSpan) // periodic timers (PeriodicTimer) are not delays
        {
            lock (_delays)
            {
                _delays.Add(dueTime);
            }
        }
        return timer;
    }

    /// <summary>
    /// Waits until <paramref name="count"/> delays matching <paramref name="match"/> have started since the
    /// mark <paramref name="since"/>, and returns their lengths.
    /// </summary>
    public Task<List<TimeSpan>> WaitForDelaysAsync(int since, Func<TimeSpan, bool> match, int count) =>
        TestData.EventuallyAsync(() =>
        {
            lock (_delays)
            {
                var started = _delays.Skip(since).Where(match).ToList();
                return Task.FromResult(started.Count >= count ? started : null);
            }
        });

    /// <summary>
    /// Advances fake time by <paramref name="step"/> at every poll until <paramref name="condition"/> holds:
    /// for code that waits on short delays of its own (an HTTP client's retry backoff) before it reaches the
    /// state a test needs.
    /// </summary>
    public Task AdvanceUntilAsync(Func<bool> condition, TimeSpan step) =>
        TestData.EventuallyAsync(() =>
        {
            if (condition())
            {
                return Task.FromResult<string?>("done");
            }
            Advance(step);
            return Task.FromResult<string?>(null);
        });

    /// <summary>How many delays matching <paramref name="match"/> have started since <paramref name="since"/>.</summary>
    public int CountDelays(int since, Func<TimeSpan, bool> match)
    {
        lock (_delays)
        {
            return _delays.Skip(since).Count(match);
        }
    }
}
