namespace AgentIdp.Core.SigningKeys;

/// <summary>Where a signing key is in its life, as <c>agentidp keys list</c> shows it.</summary>
public enum SigningKeyState
{
    /// <summary>Published, not signing yet.</summary>
    Pending,
    /// <summary>In its signing window: replicas configured for its algorithm sign with it.</summary>
    Signing,
    /// <summary>No longer signs; still published, so the tokens it signed keep validating.</summary>
    VerifyOnly,
    /// <summary>Withdrawn by an operator: neither signs nor is published.</summary>
    Withdrawn,
    /// <summary>Retired long enough ago that every token it signed has expired: no longer published.</summary>
    Expired,
}

/// <summary>
/// When a signing key signs and when it is published: the rules every AuthServer replica and the
/// operator command reckon by. A key signs from <c>activates_at</c> to <c>retires_at</c> (the newest
/// such key of an algorithm, if several are), and is published from its creation until a token it signed
/// can no longer be current, or until it is withdrawn.
/// </summary>
public static class SigningKeySchedule
{
    /// <summary>How often each AuthServer replica reloads the keys.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    /// <summary>How long a key that does not succeed another on schedule is published before it signs: two reloads, so every replica publishes it first.</summary>
    public static readonly TimeSpan PublicationLead = RefreshInterval * 2;

    /// <summary>A successor is created this long before the current key retires: two days, or a quarter of the lifetime if that is shorter.</summary>
    public static TimeSpan SuccessorLead(TimeSpan lifetime) => TimeSpan.FromTicks(Math.Min(TimeSpan.FromDays(2).Ticks, lifetime.Ticks / 4));

    /// <summary>
    /// How long a key stays published after it retires: while a token it signed may still be presented,
    /// including one signed by a replica that has not reloaded yet.
    /// </summary>
    public static TimeSpan Retention(TimeSpan accessTokenLifetime) => accessTokenLifetime + RefreshInterval * 2;

    /// <summary>The keys in the JWKS at <paramref name="now"/>: not withdrawn, and retired less than <paramref name="retention"/> ago.</summary>
    public static IQueryable<SigningKey> PublishedAt(this IQueryable<SigningKey> keys, DateTimeOffset now, TimeSpan retention)
    {
        var retiredAfter = now - retention;
        return keys.Where(k => k.WithdrawnAt == null && k.RetiresAt > retiredAfter);
    }

    public static DateTimeOffset PublishedUntil(SigningKey key, TimeSpan retention) =>
        key.WithdrawnAt is { } withdrawn && withdrawn < key.RetiresAt + retention ? withdrawn : key.RetiresAt + retention;

    /// <summary>The keys that sign at <paramref name="now"/>: of each algorithm, the newest whose signing window holds <paramref name="now"/>.</summary>
    public static IReadOnlySet<string> SigningAt(IEnumerable<SigningKey> keys, DateTimeOffset now) =>
        keys.Where(k => k.WithdrawnAt is null && k.ActivatesAt <= now && k.RetiresAt > now)
            .GroupBy(k => k.Algorithm)
            .Select(sameAlgorithm => sameAlgorithm.MaxBy(k => k.ActivatesAt)!.Id)
            .ToHashSet(StringComparer.Ordinal);

    /// <param name="signing">The keys that sign at <paramref name="now"/> (<see cref="SigningAt"/>).</param>
    public static SigningKeyState StateAt(SigningKey key, DateTimeOffset now, TimeSpan retention, IReadOnlySet<string> signing) =>
        key.WithdrawnAt is not null ? SigningKeyState.Withdrawn
        : key.RetiresAt + retention <= now ? SigningKeyState.Expired
        : now < key.ActivatesAt ? SigningKeyState.Pending
        : signing.Contains(key.Id) ? SigningKeyState.Signing
        : SigningKeyState.VerifyOnly;

    /// <summary>The state's name as the operator command prints it.</summary>
    public static string Name(this SigningKeyState state) => state switch
    {
        SigningKeyState.Pending => "pending",
        SigningKeyState.Signing => "signing",
        SigningKeyState.VerifyOnly => "verify-only",
        SigningKeyState.Withdrawn => "withdrawn",
        SigningKeyState.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
