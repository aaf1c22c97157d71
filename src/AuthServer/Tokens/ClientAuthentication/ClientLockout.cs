using System.Data.Common;
using System.Net;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Lockout;
using AuthServer.Audit;
using Microsoft.Extensions.Options;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// The lockout as the client-authentication handlers use it: which keys a request counts against, counting a
/// failure (and recording <c>auth.locked</c> when it begins a lock), forgetting a client id's failures once its
/// owner authenticates. Whether a key is locked is read with the credential (<see cref="AgentIdp.Core.Credentials.CredentialLookup"/>).
/// </summary>
public sealed partial class ClientLockout(
    FailedAuthentications failures, IOptions<LockoutOptions> options, AuditTrail audit, TimeProvider time, ILogger<ClientLockout> logger)
{
    /// <summary>The claimed client id and the caller's source address, where their locks are on.</summary>
    public LockoutKeys KeysFor(string? clientId, IPAddress? source) => LockoutKeys.For(clientId, source, options.Value);

    /// <summary>
    /// Counts one failed authentication, and awaits it: the caller's answer leaves only once its failure is
    /// counted, so no caller outruns its count, and a lock reached on one replica holds on the next request
    /// to any. The count is written whether or not the caller is still there.
    /// </summary>
    public async Task CountFailureAsync(LockoutKeys keys, string endpoint, IPAddress? ip)
    {
        if (keys.IsEmpty)
        {
            return;
        }
        IReadOnlyList<LockBegun> begun;
        try
        {
            begun = await failures.CountAsync(keys, CancellationToken.None);
        }
        catch (DbException e)
        {
            LogCountFailed(e.Message); // the caller still gets its invalid_client: a failure is a failure
            return;
        }
        foreach (var locked in begun)
        {
            LogLocked(locked.Scope, locked.Key, locked.Failures, locked.LockedUntil);
            audit.Record(AuditEvent.Create(AuditActions.AuthLocked, AuditOutcome.Failure, time.GetUtcNow(), ip: ip,
                details: JsonSerializer.Serialize(new
                {
                    endpoint,
                    scope = locked.Scope,
                    claimedClientId = locked.Scope == LockoutScope.Client ? locked.Key : null,
                    source = locked.Scope == LockoutScope.Source ? locked.Key : null,
                    failures = locked.Failures,
                    lockedUntil = locked.LockedUntil,
                }, DetailsJson)));
        }
    }

    /// <summary>The owner of a client id that had failures has authenticated: its count starts over. The common success, with no failures before it, writes nothing.</summary>
    public async Task ForgetClientFailuresAsync(LockoutKeys keys, int failuresBefore)
    {
        if (failuresBefore == 0 || keys.Client is not { } client)
        {
            return;
        }
        try
        {
            await failures.ForgetClientAsync(client, CancellationToken.None);
        }
        catch (DbException e)
        {
            LogForgetFailed(e.Message); // the count expires with its window anyway
        }
    }

    private static readonly JsonSerializerOptions DetailsJson = new(AuditEvent.DetailsJson)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Scope} {Key} is locked out after {Failures} failed authentications, until {LockedUntil:O}.")]
    private partial void LogLocked(LockoutScope scope, string key, int failures, DateTimeOffset lockedUntil);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting a failed authentication failed ({Reason}); it is not counted.")]
    private partial void LogCountFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forgetting a client id's failed authentications failed ({Reason}); they expire with their window.")]
    private partial void LogForgetFailed(string reason);
}
