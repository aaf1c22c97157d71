namespace AuthServer.Tokens;

/// <summary>
/// A purge of rows that no longer matter, run every <paramref name="interval"/> on every replica. A round
/// that fails (PostgreSQL away) is logged and the next one tries again: nothing depends on it being prompt.
/// </summary>
public abstract partial class PeriodicPurge(TimeSpan interval, string purged, TimeProvider time, ILogger logger) : BackgroundService
{
    protected TimeProvider Time { get; } = time;

    /// <summary>One round: the number of rows deleted.</summary>
    public abstract Task<int> PurgeAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, Time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PurgeAsync(stoppingToken);
            }
            catch (System.Data.Common.DbException e)
            {
                LogPurgeFailed(purged, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging {Purged} failed ({Reason}); the next round tries again.")]
    private partial void LogPurgeFailed(string purged, string reason);
}
