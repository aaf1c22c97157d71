using System.Security.Cryptography;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.SigningKeys;
using AuthServer.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace AuthServer.SigningKeys;

/// <summary>The key this replica signs with and the keys it publishes (the signing one first), as PostgreSQL holds them for every replica.</summary>
public sealed record SigningKeySet(SigningCredentials Signing, IReadOnlyList<SigningCredentials> Published);

/// <summary>
/// Keeps the token signing keys in PostgreSQL, shared by every replica and surviving restarts.
/// Each key signs from <c>activates_at</c> to <c>retires_at</c>, is published from its creation (a
/// successor is created ahead of its turn) until every token it signed has expired, and every replica
/// switches at the same instant because the switch is a matter of time, not of messages. The ring loads
/// before the server takes requests and reloads every few minutes; OpenIddict rebuilds its options
/// whenever the set changes. Keys are RS256 or ES256 (SIGNING_ALGORITHM): a replica signs with the
/// newest active key of its configured algorithm, creating one at once if there is none, and publishes
/// the keys of both.
/// </summary>
public sealed partial class SigningKeyRing(
    IServiceScopeFactory scopeFactory,
    SigningKeyProtector protector,
    IOptions<SigningKeyOptions> keyOptions,
    IOptions<TokenOptions> tokenOptions,
    TimeProvider time,
    ILogger<SigningKeyRing> logger) : BackgroundService, IOptionsChangeTokenSource<OpenIddictServerOptions>
{
    private const int RsaKeySize = 2048;
    /// <summary>Session-less advisory lock taken while a key is created ("AIDPSKEY").</summary>
    private const long CreationLockKey = 0x4149_4450_534B_4559;
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);
    /// <summary>How long the first key of a newly configured algorithm is published before it signs: two reloads.</summary>
    public static readonly TimeSpan FirstKeyLead = RefreshInterval * 2;

    private readonly Dictionary<string, SigningCredentials> _decrypted = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1); // the timer and a caller may refresh at once
    private SigningKeySet? _current;
    private CancellationTokenSource _changed = new();

    public SigningKeySet? Current => Volatile.Read(ref _current);

    private string Algorithm => keyOptions.Value.Algorithm;
    private TimeSpan Lifetime => TimeSpan.FromDays(keyOptions.Value.LifetimeDays);
    /// <summary>A successor is created this long before the current key retires.</summary>
    private TimeSpan Lead => TimeSpan.FromTicks(Math.Min(TimeSpan.FromDays(2).Ticks, Lifetime.Ticks / 4));
    /// <summary>A retired key stays published while a token it signed may still be presented.</summary>
    private TimeSpan Retention => TimeSpan.FromSeconds(tokenOptions.Value.AccessTokenLifetimeSeconds) + RefreshInterval * 2;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken); // before the server takes its first request
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRefreshFailed(e);
            }
        }
    }

    /// <summary>Loads the keys from PostgreSQL, creating the next one when its time has come.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            await RefreshOnceAsync(cancellationToken);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task RefreshOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentIdpDbContext>();
        var rows = await LoadPublishedAsync(db, time.GetUtcNow(), cancellationToken);
        // Read after the rows: a key that another replica committed while they were read is already active by now.
        var now = time.GetUtcNow();
        if (!rows.Any(k => k.Algorithm == Algorithm && k.RetiresAt > now + Lead))
        {
            await CreateSuccessorAsync(db, cancellationToken);
            now = time.GetUtcNow(); // another replica may have made the key while this one waited for the lock
            rows = await LoadPublishedAsync(db, now, cancellationToken);
        }

        // Just after SIGNING_ALGORITHM changed, the new algorithm's first key is published but not yet active:
        // the other algorithm's key signs until every replica has loaded it.
        var active = rows.Where(k => k.ActivatesAt <= now && k.RetiresAt > now).ToList();
        var signing = (active.Where(k => k.Algorithm == Algorithm).MaxBy(k => k.ActivatesAt) ?? active.MaxBy(k => k.ActivatesAt))
            ?? throw new InvalidOperationException("No signing key is active although one was just ensured.");
        var published = rows.OrderByDescending(k => k.Id == signing.Id).ThenByDescending(k => k.ActivatesAt).Select(Decrypt).ToList();
        var next = new SigningKeySet(published[0], published);

        CancellationTokenSource changed;
        lock (_sync)
        {
            var previous = _current;
            if (previous is not null && previous.Signing.Kid == next.Signing.Kid &&
                previous.Published.Select(k => k.Kid).SequenceEqual(next.Published.Select(k => k.Kid)))
            {
                return;
            }
            Volatile.Write(ref _current, next);
            changed = _changed;
            _changed = new CancellationTokenSource();
        }
        changed.Cancel(); // OpenIddict's options are rebuilt from the new set
        changed.Dispose();
        var publishedIds = next.Published.Select(k => k.Kid).ToArray();
        LogKeySet(next.Signing.Kid, next.Signing.Algorithm, publishedIds);
    }

    private Task<List<SigningKey>> LoadPublishedAsync(AgentIdpDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var retiredBefore = now - Retention;
        return db.SigningKeys.AsNoTracking().Where(k => k.RetiresAt > retiredBefore).ToListAsync(cancellationToken);
    }

    private async Task CreateSuccessorAsync(AgentIdpDbContext db, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Replicas starting together take turns; the others then find the key already made.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({CreationLockKey})", cancellationToken);
            var now = time.GetUtcNow();
            var latestRetirement = await db.SigningKeys.Where(k => k.Algorithm == Algorithm).MaxAsync(k => (DateTimeOffset?)k.RetiresAt, cancellationToken);
            if (latestRetirement > now + Lead)
            {
                return;
            }
            // A successor takes over when its predecessor retires. The first key of an algorithm waits until every
            // replica has reloaded and published it, unless no key signs at all yet (a new deployment).
            var anyActive = await db.SigningKeys.AnyAsync(k => k.ActivatesAt <= now && k.RetiresAt > now, cancellationToken);
            var activatesAt = latestRetirement > now ? latestRetirement.Value : anyActive ? now + FirstKeyLead : now;
            var (keyId, privateKey) = NewKey(Algorithm);
            try
            {
                db.SigningKeys.Add(new SigningKey
                {
                    Id = keyId,
                    Algorithm = Algorithm,
                    EncryptedPrivateKey = protector.Protect(keyId, privateKey),
                    EncryptionKeyId = protector.EncryptionKeyId,
                    CreatedAt = now,
                    ActivatesAt = activatesAt,
                    RetiresAt = activatesAt + Lifetime,
                });
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(privateKey);
                db.ChangeTracker.Clear();
            }
            LogKeyCreated(keyId, activatesAt, activatesAt + Lifetime);
        });
    }

    /// <summary>A new key pair: its JWK thumbprint (RFC 7638) as the kid, and its PKCS#8 private key.</summary>
    private static (string KeyId, byte[] PrivateKey) NewKey(string algorithm)
    {
        if (algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var publicKey = new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(false)));
            return (Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(publicKey).ComputeJwkThumbprint()), ecdsa.ExportPkcs8PrivateKey());
        }
        using var rsa = RSA.Create(RsaKeySize);
        return (Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false))).ComputeJwkThumbprint()),
            rsa.ExportPkcs8PrivateKey());
    }

    private SigningCredentials Decrypt(SigningKey key)
    {
        if (_decrypted.TryGetValue(key.Id, out var cached))
        {
            return cached;
        }
        byte[] privateKey;
        try
        {
            privateKey = protector.Unprotect(key.Id, key.EncryptedPrivateKey);
        }
        catch (CryptographicException)
        {
            throw new ConfigurationException(
                $"SIGNING_KEY_ENCRYPTION_KEY (id {protector.EncryptionKeyId}) does not decrypt signing key {key.Id}, which was " +
                $"encrypted under key id {key.EncryptionKeyId}. Start the AuthServer with the SIGNING_KEY_ENCRYPTION_KEY the other replicas use.");
        }
        try
        {
            SecurityKey securityKey;
            if (key.Algorithm == SecurityAlgorithms.EcdsaSha256)
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportPkcs8PrivateKey(privateKey, out _);
                securityKey = new ECDsaSecurityKey(ecdsa) { KeyId = key.Id };
            }
            else
            {
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(privateKey, out _);
                securityKey = new RsaSecurityKey(rsa) { KeyId = key.Id };
            }
            var credentials = new SigningCredentials(securityKey, key.Algorithm);
            _decrypted[key.Id] = credentials;
            return credentials;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reloading the signing keys failed; this replica keeps the keys it has.")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signing with key {KeyId} ({Algorithm}); publishing {KeyIds}.")]
    private partial void LogKeySet(string keyId, string algorithm, IEnumerable<string> keyIds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created signing key {KeyId}, active from {ActivatesAt:O} to {RetiresAt:O}.")]
    private partial void LogKeyCreated(string keyId, DateTimeOffset activatesAt, DateTimeOffset retiresAt);

    public override void Dispose()
    {
        _refreshing.Dispose();
        base.Dispose();
    }

    string IOptionsChangeTokenSource<OpenIddictServerOptions>.Name => Options.DefaultName;

    IChangeToken IOptionsChangeTokenSource<OpenIddictServerOptions>.GetChangeToken()
    {
        lock (_sync)
        {
            return new CancellationChangeToken(_changed.Token);
        }
    }
}

/// <summary>Hands the ring's current keys to OpenIddict: the first one signs, all are published in the JWKS.</summary>
public sealed class ConfigureSigningCredentials(SigningKeyRing ring) : IConfigureOptions<OpenIddictServerOptions>
{
    public void Configure(OpenIddictServerOptions options)
    {
        var keys = ring.Current ?? throw new InvalidOperationException("The signing keys have not been loaded yet.");
        options.SigningCredentials.AddRange(keys.Published);
    }
}
