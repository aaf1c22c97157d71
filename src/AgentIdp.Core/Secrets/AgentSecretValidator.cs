using System.Diagnostics;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
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
        AgentIdpTracing.IsListening ? ValidateTracedAsync(clientId, clientSecret, cancellationToken) : ValidateUntracedAsync(clientId, clientSecret, cancellationToken);

    private async Task<SecretValidationResult> ValidateTracedAsync(string? clientId, string? clientSecret, CancellationToken cancellationToken)
    {
        using var activity = AgentIdpTracing.StartSecretVerification();
        var result = await ValidateUntracedAsync(clientId, clientSecret, cancellationToken);
        AgentIdpTracing.EndSecretVerification(activity, result);
        return result;
    }

    private async Task<SecretValidationResult> ValidateUntracedAsync(string? clientId, string? clientSecret, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientSecret))
        {
            return AuthenticationFailure.MissingSecret;
        }
        // A client_id is a string compared exactly (RFC 6749 §2.2): the agent id in its canonical, lower-case form.
        if (!Guid.TryParseExact(clientId, "D", out var agentId) || !IsCanonical(agentId, clientId))
        {
            return await DecoyAsync(clientSecret, AuthenticationFailure.UnknownClient, cancellationToken);
        }
        if (!ClientSecret.TryReadCredentialId(clientSecret, out var credentialId))
        {
            return await DecoyAsync(clientSecret, AuthenticationFailure.MalformedSecret, cancellationToken);
        }

        var credential = await credentials.FindAsync(credentialId, cancellationToken);
        if (credential is null || credential.AgentId != agentId || (credential.SecretHash is null && credential.VaultVersion is null))
        {
            return await DecoyAsync(clientSecret, AuthenticationFailure.UnknownCredential, cancellationToken);
        }

        // The secret is checked before the state, so that a revoked credential costs what a live one does.
        var versions = new SecretVersions(credential.SecretVersion, credential.VaultVersion);
        var started = Stopwatch.GetTimestamp();
        var fullCheck = !cache.Matches(credentialId, versions, clientSecret);
        var failure = fullCheck ? await VerifyAsync(credential, clientSecret, cancellationToken) : null;
        Measure(!fullCheck ? SecretStores.Cache : credential.VaultPath is null ? SecretStores.Bcrypt : SecretStores.Vault, failure, started);
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
        if (fullCheck)
        {
            cache.Remember(credentialId, versions, clientSecret); // a hit does not extend the TTL: it runs from the full check
        }
        return new VerifiedCredential(agentId, credentialId, credential.SecretVersion, credential.SecurityStamp, credential.Capabilities, credential.ExpiresAt);
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
}

public readonly struct SecretValidationResult
{
    private SecretValidationResult(VerifiedCredential? agent, AuthenticationFailure? failure) => (Agent, Failure) = (agent, failure);

    public VerifiedCredential? Agent { get; }
    public AuthenticationFailure? Failure { get; }

    public static implicit operator SecretValidationResult(VerifiedCredential agent) => new(agent, null);
    public static implicit operator SecretValidationResult(AuthenticationFailure failure) => new(null, failure);
}
