using System.Diagnostics;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Lockout;
using AgentIdp.Core.Telemetry;
using AgentIdp.Core.Vault;

namespace AgentIdp.Core.Secrets;

/// <summary>
/// Checks an agent's client secret against its credential row, read on every request: from the
/// <see cref="VerifiedSecretCache"/>, or in full against Vault or bcrypt. Every failure looks the same to the
/// caller; the <see cref="AuthenticationFailure"/> is for the audit log.
/// </summary>
public sealed class AgentSecretValidator(
    CredentialLookup credentials,
    BcryptVerifier bcrypt,
    VerifiedSecretCache cache,
    TimeProvider time,
    Func<VaultSecretStore>? vault = null,
    AgentIdpMetrics? metrics = null)
{
    public Task<SecretValidationResult> ValidateAsync(string? clientId, string? clientSecret, CancellationToken cancellationToken) =>
        ValidateAsync(clientId, clientSecret, LockoutKeys.None, cancellationToken);

    /// <summary>
    /// Checks the secret, unless the client id or the source in <paramref name="lockout"/> is locked: then the
    /// request is refused (<see cref="AuthenticationFailure.Locked"/>) before any bcrypt or Vault work. A locked
    /// source still lets through a secret the verified-secret cache recognizes, which costs no check and which
    /// a guesser cannot present: agents behind the same address keep their tokens. Counting failures is the
    /// caller's part (<see cref="FailedAuthentications"/>).
    /// </summary>
    public Task<SecretValidationResult> ValidateAsync(string? clientId, string? clientSecret, LockoutKeys lockout, CancellationToken cancellationToken) =>
        AgentIdpTracing.IsListening
            ? ValidateTracedAsync(clientId, clientSecret, lockout, cancellationToken)
            : ValidateUntracedAsync(clientId, clientSecret, lockout, cancellationToken);

    private async Task<SecretValidationResult> ValidateTracedAsync(string? clientId, string? clientSecret, LockoutKeys lockout, CancellationToken cancellationToken)
    {
        using var activity = AgentIdpTracing.StartSecretVerification();
        var result = await ValidateUntracedAsync(clientId, clientSecret, lockout, cancellationToken);
        AgentIdpTracing.EndSecretVerification(activity, result);
        return result;
    }

    private async Task<SecretValidationResult> ValidateUntracedAsync(string? clientId, string? clientSecret, LockoutKeys lockout, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientSecret))
        {
            return AuthenticationFailure.MissingSecret;
        }
        // A client_id is a string compared exactly (RFC 6749 §2.2): the agent id in its canonical, lower-case form.
        var knownForm = Guid.TryParseExact(clientId, "D", out var agentId) && IsCanonical(agentId, clientId);
        Guid? credentialId = ClientSecret.TryReadCredentialId(clientSecret, out var id) ? id : null;

        // One query: the credential the secret names (when the request could be valid at all) and the locks.
        var (credential, locks) = (knownForm && credentialId is not null) || !lockout.IsEmpty
            ? await credentials.FindAsync(knownForm ? credentialId : null, lockout, cancellationToken)
            : default;
        if (credential is not null && (credential.AgentId != agentId || (credential.SecretHash is null && credential.VaultVersion is null)))
        {
            credential = null; // another agent's credential, or one with no secret: as if it did not exist
        }
        var versions = credential is null ? default : new SecretVersions(credential.SecretVersion, credential.VaultVersion);
        var started = Stopwatch.GetTimestamp();
        var cached = credential is not null && cache.Matches(credentialId!.Value, versions, clientSecret);
        if (locks.ClientLocked || (locks.SourceLocked && !cached))
        {
            return AuthenticationFailure.Locked;
        }

        if (!knownForm)
        {
            return await DecoyAsync(clientSecret, AuthenticationFailure.UnknownClient, cancellationToken);
        }
        if (credentialId is null)
        {
            return await DecoyAsync(clientSecret, AuthenticationFailure.MalformedSecret, cancellationToken);
        }
        if (credential is null)
        {
            return await DecoyAsync(clientSecret, AuthenticationFailure.UnknownCredential, cancellationToken);
        }

        // The secret is checked before the state, so that a revoked credential costs what a live one does.
        var failure = cached ? null : await VerifyAsync(credential, clientSecret, cancellationToken);
        Measure(cached ? SecretStores.Cache : credential.VaultPath is null ? SecretStores.Bcrypt : SecretStores.Vault, failure, started);
        if (failure is { } refused)
        {
            return refused;
        }
        if (credential.Status != CredentialStatus.Active)
        {
            return AuthenticationFailure.CredentialRevoked;
        }
        if (credential.ExpiresAt <= time.GetUtcNow())
        {
            return AuthenticationFailure.CredentialExpired;
        }
        if (credential.AgentStatus != AgentStatus.Active)
        {
            return credential.AgentStatus == AgentStatus.Suspended
                ? AuthenticationFailure.AgentSuspended
                : AuthenticationFailure.AgentDecommissioned;
        }
        if (!cached)
        {
            cache.Remember(credentialId.Value, versions, clientSecret); // a hit does not extend the TTL: it runs from the full check
        }
        return SecretValidationResult.Verified(
            new VerifiedCredential(agentId, credentialId.Value, credential.SecretVersion, credential.SecurityStamp, credential.Capabilities, credential.ExpiresAt),
            locks.ClientFailures);
    }

    /// <summary>The full check, against Vault or bcrypt; null when the secret matched.</summary>
    private async Task<AuthenticationFailure?> VerifyAsync(CredentialRow credential, string clientSecret, CancellationToken cancellationToken)
    {
        if (credential is { VaultPath: { } path, VaultVersion: { } version })
        {
            if (vault is null)
            {
                return AuthenticationFailure.SecretStoreUnavailable; // a Vault-backed credential, and VAULT_ADDR is not set
            }
            try
            {
                return await vault().VerifyAsync(path, version, clientSecret, cancellationToken) switch
                {
                    VaultCheck.Match => null,
                    VaultCheck.Missing => AuthenticationFailure.VaultSecretMissing,
                    _ => AuthenticationFailure.WrongSecret,
                };
            }
            catch (VaultException)
            {
                return AuthenticationFailure.SecretStoreUnavailable;
            }
        }
        return await bcrypt.VerifyAsync(clientSecret, credential.SecretHash!, cancellationToken) switch
        {
            BcryptCheck.Match => null,
            BcryptCheck.Shed => AuthenticationFailure.Overloaded,
            _ => AuthenticationFailure.WrongSecret,
        };
    }

    /// <summary>A request that names no credential costs what a wrong secret does, and is shed alike.</summary>
    private async Task<SecretValidationResult> DecoyAsync(string clientSecret, AuthenticationFailure failure, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await bcrypt.VerifyDecoyAsync(clientSecret, cancellationToken) == BcryptCheck.Shed ? AuthenticationFailure.Overloaded : failure;
        Measure(SecretStores.Bcrypt, result, started);
        return result;
    }

    private void Measure(string store, AuthenticationFailure? failure, long started)
    {
        var outcome = SecretOutcomes.Of(failure);
        metrics?.SecretVerified(store, outcome, Stopwatch.GetElapsedTime(started));
        AgentIdpTracing.SecretChecked(store, outcome);
    }

    private static bool IsCanonical(Guid id, string? text)
    {
        Span<char> canonical = stackalloc char[36];
        return id.TryFormat(canonical, out var written, "D") && canonical[..written].SequenceEqual(text);
    }
}

/// <summary>A credential whose secret checked out: the agent it proves, and what the agent may do.</summary>
public sealed record VerifiedCredential(
    Guid AgentId, Guid CredentialId, int SecretVersion, int SecurityStamp, IReadOnlyList<string> Capabilities, DateTimeOffset? CredentialExpiresAt);

/// <summary>Why authentication failed: recorded in the audit log, never told to the caller.</summary>
public enum AuthenticationFailure
{
    MissingSecret,
    UnknownClient,
    MalformedSecret,
    UnknownCredential,
    WrongSecret,
    CredentialRevoked,
    CredentialExpired,
    AgentSuspended,
    AgentDecommissioned,
    /// <summary>Vault holds no secret at the version the credential names (destroyed or never written).</summary>
    VaultSecretMissing,
    /// <summary>Vault could not be read: a server error (VAULT_READ_ERROR), not a wrong secret.</summary>
    SecretStoreUnavailable,
    /// <summary>The secret was not checked: bcrypt's queue was full. Not a verdict: the caller may retry.</summary>
    Overloaded,
    /// <summary>The secret was not checked: the client id or the source is locked out after too many failures.</summary>
    Locked,
}

public static class AuthenticationFailures
{
    /// <summary>
    /// Whether a failure counts toward a lockout: a verdict on what the caller presented does; a missing secret
    /// (nothing was tried), a lock, an unreadable Vault and shedding (nothing was decided) do not.
    /// </summary>
    public static bool CountsTowardLockout(this AuthenticationFailure failure) => failure is not
        (AuthenticationFailure.MissingSecret or AuthenticationFailure.Locked or AuthenticationFailure.SecretStoreUnavailable or AuthenticationFailure.Overloaded);
}

public readonly struct SecretValidationResult
{
    private SecretValidationResult(VerifiedCredential? agent, AuthenticationFailure? failure, int clientFailuresBefore) =>
        (Agent, Failure, ClientFailuresBefore) = (agent, failure, clientFailuresBefore);

    public VerifiedCredential? Agent { get; }
    public AuthenticationFailure? Failure { get; }
    /// <summary>On success, the client id's failures counted before it: only then is there a count to forget.</summary>
    public int ClientFailuresBefore { get; }

    public static SecretValidationResult Verified(VerifiedCredential agent, int clientFailuresBefore) => new(agent, null, clientFailuresBefore);

    public static implicit operator SecretValidationResult(AuthenticationFailure failure) => new(null, failure, 0);
}
