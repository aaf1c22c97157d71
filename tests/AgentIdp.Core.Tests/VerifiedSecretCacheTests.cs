using AgentIdp.Core.Secrets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentIdp.Core.Tests;

public sealed class VerifiedSecretCacheTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private static readonly SecretVersions First = new(1, null);

    private VerifiedSecretCache Cache(int ttlSeconds = 600, int maxEntries = 100) =>
        new(Options.Create(new SecretCacheOptions { TtlSeconds = ttlSeconds, MaxEntries = maxEntries }), _time);

    [Fact]
    public void A_remembered_secret_matches_only_itself_at_the_versions_it_was_checked_at()
    {
        var cache = Cache();
        var id = Guid.NewGuid();
        var secret = ClientSecret.Generate(id);
        cache.Remember(id, First, secret);

        Assert.True(cache.Matches(id, First, secret));
        Assert.True(cache.Recognizes(secret));
        Assert.False(cache.Matches(id, First, ClientSecret.Generate(id)));
        Assert.False(cache.Matches(id, new SecretVersions(2, null), secret)); // rotated since
        Assert.False(cache.Matches(id, new SecretVersions(1, 3), secret)); // another Vault version
        Assert.False(cache.Matches(Guid.NewGuid(), First, secret)); // the tag binds the secret to its credential
        Assert.False(cache.Recognizes(ClientSecret.Generate(id)));
    }

    [Fact]
    public void An_entry_lasts_the_TTL_from_its_full_check_and_no_longer()
    {
        var cache = Cache(ttlSeconds: 60);
        var id = Guid.NewGuid();
        var secret = ClientSecret.Generate(id);
        cache.Remember(id, First, secret);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.Matches(id, First, secret));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.Matches(id, First, secret));
        Assert.False(cache.Recognizes(secret));
    }

    [Fact]
    public void A_TTL_of_zero_turns_the_cache_off()
    {
        var cache = Cache(ttlSeconds: 0);
        var id = Guid.NewGuid();
        var secret = ClientSecret.Generate(id);
        cache.Remember(id, First, secret);

        Assert.False(cache.Enabled);
        Assert.False(cache.Matches(id, First, secret));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_full_cache_keeps_its_live_entries_and_makes_room_only_from_expired_ones()
    {
        var cache = Cache(ttlSeconds: 60, maxEntries: 2);
        var entries = Enumerable.Range(0, 2).Select(_ => Guid.NewGuid()).Select(id => (Id: id, Secret: ClientSecret.Generate(id))).ToList();
        foreach (var (id, secret) in entries)
        {
            cache.Remember(id, First, secret);
        }
        var newcomer = Guid.NewGuid();
        var newcomerSecret = ClientSecret.Generate(newcomer);

        cache.Remember(newcomer, First, newcomerSecret);
        Assert.False(cache.Matches(newcomer, First, newcomerSecret));
        Assert.All(entries, e => Assert.True(cache.Matches(e.Id, First, e.Secret)));

        _time.Advance(TimeSpan.FromSeconds(61));
        cache.Remember(newcomer, First, newcomerSecret);
        Assert.True(cache.Matches(newcomer, First, newcomerSecret));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void A_new_full_check_replaces_the_entry_of_its_credential()
    {
        var cache = Cache(maxEntries: 1);
        var id = Guid.NewGuid();
        var old = ClientSecret.Generate(id);
        var rotated = ClientSecret.Generate(id);
        cache.Remember(id, First, old);

        cache.Remember(id, new SecretVersions(2, null), rotated);

        Assert.True(cache.Matches(id, new SecretVersions(2, null), rotated));
        Assert.False(cache.Recognizes(old));
        Assert.Equal(1, cache.Count);
    }
}
