using System.Security.Cryptography;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Core.Telemetry;
using AgentIdp.Core.Tokens;
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
/// the keys of both. A key withdrawn by an operator is neither used nor published from the next reload.
/// The rules of the schedule are <see cref="SigningKeySchedule"/>'s; every change to the table is
/// <see cref="SigningKeyLifecycle"/>'s.
/// </summary>
public sealed partial class SigningKeyRing(
    IServiceScopeFactory scopeFactory,
    SigningKeyProtector protector,
    IOptions<SigningKeyOptions> keyOptions,
    IOptions<AccessTokenOptions> accessTokenOptions,
    TimeProvider time,
    ILogger<SigningKeyRing> logger,
    AgentIdpMetrics metrics) : BackgroundService, IOptionsChangeTokenSource<OpenIddictServerOptions>
{
    private readonly Dictionary<string, SigningCredentials> _decrypted = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1); // the timer and a caller may refresh at once
    private SigningKeySet? _current;
    private CancellationTokenSource _changed = new();

    public SigningKeySet? Current => Volatile.Read(ref _current);

    private string Algorithm => keyOptions.Value.Algorithm;
    private TimeSpan Lead => SigningKeySchedule.SuccessorLead(keyOptions.Value.Lifetime);
    private TimeSpan Retention => SigningKeySchedule.Retention(accessTokenOptions.Value.Lifetime);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken); // before the server takes its first request
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SigningKeySchedule.RefreshInterval, time);
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
            if (await scope.ServiceProvider.GetRequiredService<SigningKeyLifecycle>().CreateScheduledSuccessorAsync(cancellationToken) is { } created)
            {
                LogKeyCreated(created.Id, created.ActivatesAt, created.RetiresAt);
            }
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
        metrics.SigningWith(signing.Algorithm, signing.ActivatesAt);
        changed.Dispose();
        var publishedIds = next.Published.Select(k => k.Kid).ToArray();
        LogKeySet(next.Signing.Kid, next.Signing.Algorithm, publishedIds);
    }

    private Task<List<SigningKey>> LoadPublishedAsync(AgentIdpDbContext db, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.SigningKeys.AsNoTracking().PublishedAt(now, Retention).ToListAsync(cancellationToken);

    private SigningCredentials Decrypt(SigningKey key)
    {
        if (_decrypted.TryGetValue(key.Id, out var cached))
        {
            return cached;
        }
        byte[] privateKey;
        try
        {
            privateKey = protector.Unprotect(key);
        }
        catch (CryptographicException)
        {
            var previous = protector.PreviousEncryptionKeyId is { } previousId
                ? $", and neither does SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS (id {previousId})"
                : "";
            throw new ConfigurationException(
                $"SIGNING_KEY_ENCRYPTION_KEY (id {protector.EncryptionKeyId}) does not decrypt signing key {key.Id}, which was " +
                $"encrypted under key id {key.EncryptionKeyId}{previous}. Start the AuthServer with the SIGNING_KEY_ENCRYPTION_KEY the other " +
                "replicas use (while that key is being changed, with the one it replaces as SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS).");
        }
        try
        {
            SecurityKey securityKey;
            if (key.Algorithm == SigningKeyOptions.Es256)
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
