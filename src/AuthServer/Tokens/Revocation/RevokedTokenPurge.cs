using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tokens.Revocation;

/// <summary>
/// Once an hour, forgets revocations of tokens that have expired anyway: an expired token is refused for
/// its expiry, so its row in <c>revoked_tokens</c> no longer matters. Replicas may run it at once.
/// </summary>
public sealed class RevokedTokenPurge(IServiceScopeFactory scopes, TimeProvider time, ILogger<RevokedTokenPurge> logger)
    : PeriodicPurge(Interval, "expired revocations", time, logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public override async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentIdpDbContext>();
        var now = Time.GetUtcNow();
        return await db.RevokedTokens.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
    }
}
