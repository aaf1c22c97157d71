using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Secrets;

/// <summary>
/// Remembers per credential a keyed HMAC of the secret that last passed a full check, and the versions it
/// passed at: never the secret, and only a secret that passed gets in. The row read on every request still
/// decides rotation, revocation, expiry and suspension.
/// </summary>
public sealed class VerifiedSecretCache
{
    private const int TagSize = 32;
    private const int MaxSecretBytes = 256;
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly int _maxEntries;
    private int _count;
    private long _nextSweepTicks;

    public VerifiedSecretCache(IOptions<SecretCacheOptions> options, TimeProvider time)
    {
        _time = time;
        _ttl = options.Value.Ttl;
        _maxEntries = options.Value.MaxEntries;
    }

    public bool Enabled => _ttl > TimeSpan.Zero;

    /// <summary>How many credentials are cached now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// True when <paramref name="secret"/> is the one that last passed a full check for this credential at
    /// these versions, within the TTL. The tag is computed whether or not an entry exists, and compared in
    /// constant time.
    /// </summary>
    public bool Matches(Guid credentialId, SecretVersions versions, string secret) =>
        Find(credentialId, secret) is { } entry && entry.Versions == versions;

    /// <summary>
    /// True when <paramref name="secret"/> passed a full check for its credential within the TTL, at
    /// whatever versions: a hint, before the credential row is read, that the request will not need one.
    /// </summary>
    public bool Recognizes(string secret) =>
        ClientSecret.TryReadCredentialId(secret, out var credentialId) && Find(credentialId, secret) is not null;

    private Entry? Find(Guid credentialId, string secret)
    {
        if (!Enabled)
        {
            return null;
        }
        Span<byte> presented = stackalloc byte[TagSize];
        if (!TryComputeTag(credentialId, secret, presented) || !_entries.TryGetValue(credentialId, out var entry))
        {
            return null;
        }
        return entry.ExpiresAtTicks > _time.GetUtcNow().UtcTicks && CryptographicOperations.FixedTimeEquals(entry.Tag, presented)
            ? entry
            : null;
    }

    /// <summary>Records that <paramref name="secret"/> passed a full check for this credential at these versions.</summary>
    public void Remember(Guid credentialId, SecretVersions versions, string secret)
    {
        if (!Enabled)
        {
            return;
        }
        var now = _time.GetUtcNow().UtcTicks;
        var entry = new Entry { Versions = versions, ExpiresAtTicks = now + _ttl.Ticks };
        if (!TryComputeTag(credentialId, secret, entry.Tag))
        {
            return;
        }
        while (true)
        {
            if (_entries.TryGetValue(credentialId, out var previous))
            {
                if (_entries.TryUpdate(credentialId, entry, previous))
                {
                    return;
                }
                continue; // replaced or removed meanwhile: look again
            }
            if (Volatile.Read(ref _count) >= _maxEntries && !SweepExpired(now))
            {
                return; // full of live entries: this credential stays cold
            }
            if (_entries.TryAdd(credentialId, entry))
            {
                Interlocked.Increment(ref _count);
                return;
            }
        }
    }

    /// <summary>Removes expired entries, at most once per sweep interval; true when it freed room.</summary>
    private bool SweepExpired(long now)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now < due || Interlocked.CompareExchange(ref _nextSweepTicks, now + SweepInterval.Ticks, due) != due)
        {
            return false;
        }
        foreach (var (id, entry) in _entries)
        {
            if (entry.ExpiresAtTicks <= now && _entries.TryRemove(new KeyValuePair<Guid, Entry>(id, entry)))
            {
                Interlocked.Decrement(ref _count);
            }
        }
        return Volatile.Read(ref _count) < _maxEntries;
    }

    private bool TryComputeTag(Guid credentialId, string secret, Span<byte> tag)
    {
        if (Encoding.UTF8.GetByteCount(secret) > MaxSecretBytes - 16)
        {
            return false; // far longer than any secret AgentIdP issues: never cached
        }
        Span<byte> input = stackalloc byte[MaxSecretBytes];
        credentialId.TryWriteBytes(input);
        var length = 16 + Encoding.UTF8.GetBytes(secret, input[16..]);
        try
        {
            HMACSHA256.HashData(_key, input[..length], tag);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input[..length]);
        }
    }

    /// <summary>A reference type, so that replacing and removing an entry compare by identity.</summary>
    private sealed class Entry
    {
        public TagBytes Tag;
        public required SecretVersions Versions { get; init; }
        public required long ExpiresAtTicks { get; init; }
    }

    [InlineArray(TagSize)]
    private struct TagBytes
    {
        private byte _first;
    }
}

/// <summary>What a cached verification is tied to: the credential's secret version and, for Vault, the KV version read.</summary>
public readonly record struct SecretVersions(int SecretVersion, int? VaultVersion);
