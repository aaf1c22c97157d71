using AgentIdp.Core.Lockout;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// Every five minutes, deletes the lockout rows that no longer count: ended locks and closed windows. A lock
/// is read by its expiry, so this only keeps <c>auth_lockouts</c> small. Replicas take turns under an advisory lock.
/// </summary>
public sealed class LockoutPurge(FailedAuthentications failures, TimeProvider time, ILogger<LockoutPurge> logger)
    : PeriodicPurge(Interval, "ended lockouts", time, logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    public override Task<int> PurgeAsync(CancellationToken cancellationToken) => failures.PurgeAsync(cancellationToken);
}
