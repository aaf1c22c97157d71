using AgentIdp.Core.Lockout;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// Every five minutes, deletes the lockout rows that no longer count: ended locks and closed windows. A lock
/// is read by its expiry, so this only keeps <c>auth_lockouts</c> small. Replicas take turns under an advisory lock.
/// </summary>
public sealed partial class LockoutPurge(FailedAuthentications failures, TimeProvider time, ILogger<LockoutPurge> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PurgeAsync(stoppingToken);
            }
            catch (System.Data.Common.DbException e)
            {
                LogPurgeFailed(e.Message);
            }
        }
    }

    public Task<int> PurgeAsync(CancellationToken cancellationToken) => failures.PurgeAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging ended lockouts failed ({Reason}); the next round tries again.")]
    private partial void LogPurgeFailed(string reason);
}
