using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Vault;

/// <summary>
/// The token AgentIdP presents to Vault, by VAULT_AUTH_METHOD (a token or token file, kubernetes, approle):
/// renewed at two thirds of its TTL, or replaced by a new login when it cannot be renewed or Vault answers 403.
/// </summary>
public sealed partial class VaultTokenSource(IServiceProvider services, IOptions<VaultOptions> options, TimeProvider time, ILogger<VaultTokenSource> logger)
    : IDisposable
{
    /// <param name="TtlUnknown">Vault could not be asked when the token was read: look it up again at the next round.</param>
    private sealed record Lease(string? Token, DateTimeOffset ObtainedAt, TimeSpan Ttl, bool Renewable, DateTime? FileStamp, bool TtlUnknown = false);

    /// <summary>After a 403, at most one new login in this long: a policy that denies for good must not flood Vault with logins.</summary>
    public static readonly TimeSpan ReauthenticationInterval = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Lease? _lease;
    private DateTimeOffset _fileCheckedAt;
    private DateTimeOffset _reauthenticatedAt = DateTimeOffset.MinValue;

    private VaultOptions Options => options.Value;
    private bool CanLogIn => Options.AuthMethod is VaultOptions.KubernetesMethod or VaultOptions.AppRoleMethod;

    /// <summary>The token to send; null when none is configured.</summary>
    public async ValueTask<string?> GetAsync(CancellationToken cancellationToken)
    {
        var lease = Volatile.Read(ref _lease);
        if (lease is not null && !IsStale(lease))
        {
            return lease.Token;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            lease = _lease;
            if (lease is null || IsStale(lease))
            {
                lease = await AcquireAsync(cancellationToken);
                Volatile.Write(ref _lease, lease);
            }
            return lease.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>After Vault refused <paramref name="rejected"/>: a new token where the method can get one, else null.</summary>
    public async Task<string?> ReauthenticateAsync(string? rejected, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_lease is { } current && current.Token != rejected)
            {
                return current.Token; // another request already replaced it
            }
            if (!CanLogIn && string.IsNullOrEmpty(Options.TokenFile))
            {
                return null; // a fixed VAULT_TOKEN cannot be replaced from here
            }
            var now = time.GetUtcNow();
            if (now - _reauthenticatedAt < ReauthenticationInterval)
            {
                return null;
            }
            _reauthenticatedAt = now;
            var lease = await AcquireAsync(cancellationToken);
            Volatile.Write(ref _lease, lease);
            LogReauthenticated(Options.AuthMethod);
            return lease.Token != rejected ? lease.Token : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Keeps the token alive: renews it when two thirds of its TTL have passed (logs in again if renewal is
    /// refused or impossible). Returns how long until it next needs attention; null if it never expires.
    /// </summary>
    public async Task<TimeSpan?> RenewAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var lease = _lease ??= await AcquireAsync(cancellationToken);
            if (lease is { TtlUnknown: true, Token: { } unknown })
            {
                var looked = await AuthClient().LookupSelfAsync(unknown, cancellationToken); // throws while Vault is away: the caller retries soon
                lease = lease with { ObtainedAt = time.GetUtcNow(), Ttl = looked.Duration, Renewable = looked.Renewable, TtlUnknown = false };
                Volatile.Write(ref _lease, lease);
            }
            if (lease.Ttl <= TimeSpan.Zero)
            {
                return null;
            }
            var due = lease.ObtainedAt + lease.Ttl * 2 / 3;
            var now = time.GetUtcNow();
            if (now < due)
            {
                return due - now;
            }
            if (lease.Renewable && lease.Token is { } token)
            {
                try
                {
                    var renewed = await AuthClient().RenewSelfAsync(token, cancellationToken);
                    lease = lease with { ObtainedAt = time.GetUtcNow(), Ttl = renewed.Duration, Renewable = renewed.Renewable };
                    LogRenewed(renewed.Duration);
                }
                catch (VaultException e) when (e.Status is 400 or 403 && CanLogIn)
                {
                    lease = await AcquireAsync(cancellationToken); // renewal refused (e.g. past its max TTL): log in again
                }
            }
            else if (CanLogIn)
            {
                lease = await AcquireAsync(cancellationToken);
            }
            else
            {
                LogCannotRenew();
                Volatile.Write(ref _lease, lease with { Ttl = TimeSpan.Zero });
                return null;
            }
            Volatile.Write(ref _lease, lease);
            return lease.Ttl > TimeSpan.Zero ? lease.Ttl * 2 / 3 : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A lease needs replacing when its token file changed, or a login token is near its end (renewal failed).</summary>
    private bool IsStale(Lease lease)
    {
        var now = time.GetUtcNow();
        if (lease.FileStamp is { } stamp && now - _fileCheckedAt >= TimeSpan.FromSeconds(1))
        {
            _fileCheckedAt = now;
            if (File.GetLastWriteTimeUtc(Options.TokenFile!) != stamp)
            {
                return true;
            }
        }
        return CanLogIn && lease.Ttl > TimeSpan.Zero && now >= lease.ObtainedAt + lease.Ttl * 9 / 10;
    }

    private async Task<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        switch (Options.AuthMethod)
        {
            case VaultOptions.KubernetesMethod:
                {
                    var jwt = (await File.ReadAllTextAsync(Options.KubernetesJwtPath, cancellationToken)).Trim();
                    var login = await AuthClient().LoginWithKubernetesAsync(Options.KubernetesAuthPath, Options.KubernetesRole!, jwt, cancellationToken);
                    return new Lease(login.Token, now, login.Duration, login.Renewable, null);
                }
            case VaultOptions.AppRoleMethod:
                {
                    var secretId = string.IsNullOrWhiteSpace(Options.AppRoleSecretIdFile)
                        ? Options.AppRoleSecretId!
                        : (await File.ReadAllTextAsync(Options.AppRoleSecretIdFile, cancellationToken)).Trim();
                    var login = await AuthClient().LoginWithAppRoleAsync(Options.AppRoleAuthPath, Options.AppRoleRoleId!, secretId, cancellationToken);
                    return new Lease(login.Token, now, login.Duration, login.Renewable, null);
                }
            default:
                {
                    DateTime? stamp = null;
                    var token = Options.Token;
                    if (!string.IsNullOrWhiteSpace(Options.TokenFile))
                    {
                        stamp = File.GetLastWriteTimeUtc(Options.TokenFile);
                        token = (await File.ReadAllTextAsync(Options.TokenFile, cancellationToken)).Trim();
                        _fileCheckedAt = now;
                    }
                    if (string.IsNullOrEmpty(token))
                    {
                        return new Lease(null, now, TimeSpan.Zero, false, stamp);
                    }
                    try
                    {
                        var looked = await AuthClient().LookupSelfAsync(token, cancellationToken);
                        return new Lease(token, now, looked.Duration, looked.Renewable, stamp);
                    }
                    catch (VaultException e) when (!e.PermissionDenied)
                    {
                        // Vault is away: use the token as it is and learn its TTL at the next renewal round.
                        LogLookupFailed(e.Message);
                        return new Lease(token, now, TimeSpan.Zero, false, stamp, TtlUnknown: true);
                    }
                }
        }
    }

    public void Dispose() => _gate.Dispose();

    private VaultAuthClient AuthClient() => services.GetRequiredService<VaultAuthClient>();

    [LoggerMessage(Level = LogLevel.Information, Message = "Logged in to Vault again ({Method}) after it refused the previous token.")]
    private partial void LogReauthenticated(string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Renewed the Vault token for {Duration}.")]
    private partial void LogRenewed(TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Vault token cannot be renewed and this auth method cannot log in again; it will expire. Use a renewable token, VAULT_TOKEN_FILE with Vault Agent, or the kubernetes or approle method.")]
    private partial void LogCannotRenew();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not look up the Vault token ({Reason}); using it as it is.")]
    private partial void LogLookupFailed(string reason);
}
