using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tokens.Revocation;

/// <summary>
/// Once an hour, forgets revocations of tokens that have expired anyway: an expired token is refused for
/// its expiry, so its row in <c>revoked_tokens</c> no longer matters. Replicas may run it at once.
/// </summary>
public sealed partial class RevokedTokenPurge(IServiceScopeFactory scopes, TimeProvider time, ILogger<RevokedTokenPurge> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

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

    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentIdpDbContext>();
        var now = time.GetUtcNow();
        return await db.RevokedTokens.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging expired revocations failed ({Reason}); the next round tries again.")]
    private partial void LogPurgeFailed(string reason);
}
