using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Vault;
using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Core.Secrets;

/// <summary>
/// Checks an agent's client secret: AgentIdP's counterpart of Duende's <c>ISecretValidator</c>.
/// It finds the one credential named by the secret's id part (a primary-key lookup joined to the
/// agent), checks the secret against Vault (the exact version the credential names, compared in
/// constant time) or against its bcrypt hash, then the credential's and the agent's state. Every
/// failure looks the same to the caller; <see cref="AuthenticationFailure"/> is for the audit log only,
/// except <see cref="AuthenticationFailure.SecretStoreUnavailable"/>, which is a server error.
/// </summary>
public sealed class AgentSecretValidator(AgentIdpDbContext db, SecretHasher hasher, TimeProvider time, VaultSecretStore? vault = null)
{
    private sealed record CredentialRow(
        Guid AgentId, string? SecretHash, string? VaultPath, int? VaultVersion, int SecretVersion, CredentialStatus Status,
        DateTimeOffset? ExpiresAt, AgentStatus AgentStatus, int SecurityStamp, List<string> Capabilities);

    private static readonly Func<AgentIdpDbContext, Guid, CancellationToken, Task<CredentialRow?>> FindCredential =
        EF.CompileAsyncQuery((AgentIdpDbContext context, Guid credentialId, CancellationToken _) =>
            context.Credentials.AsNoTracking()
                .Where(c => c.Id == credentialId)
                .Select(c => new CredentialRow(
                    c.AgentId, c.SecretHash, c.VaultPath, c.VaultVersion, c.SecretVersion, c.Status, c.ExpiresAt, c.Agent!.Status, c.Agent.SecurityStamp, c.Agent.Capabilities))
                .SingleOrDefault());

    public async Task<SecretValidationResult> ValidateAsync(string? clientId, string? clientSecret, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(clientSecret))
        {
            return AuthenticationFailure.MissingSecret;
        }
        // A client_id is a string compared exactly (RFC 6749 §2.2): the agent id in its canonical, lower-case form.
        if (!Guid.TryParseExact(clientId, "D", out var agentId) || agentId.ToString() != clientId)
        {
            hasher.VerifyDecoy(clientSecret);
            return AuthenticationFailure.UnknownClient;
        }
        if (!ClientSecret.TryReadCredentialId(clientSecret, out var credentialId))
        {
            hasher.VerifyDecoy(clientSecret);
            return AuthenticationFailure.MalformedSecret;
        }

        var credential = await FindCredential(db, credentialId, cancellationToken);
        if (credential is null || credential.AgentId != agentId || (credential.SecretHash is null && credential.VaultVersion is null))
        {
            hasher.VerifyDecoy(clientSecret);
            return AuthenticationFailure.UnknownCredential;
        }

        // The secret is checked before the state, so that a revoked credential costs what a live one does.
        if (credential is { VaultPath: { } path, VaultVersion: { } version })
        {
            if (vault is null)
            {
                return AuthenticationFailure.SecretStoreUnavailable; // a Vault-backed credential, and VAULT_ADDR is not set
            }
            VaultCheck check;
            try
            {
                check = await vault.VerifyAsync(path, version, clientSecret, cancellationToken);
            }
            catch (VaultException)
            {
                return AuthenticationFailure.SecretStoreUnavailable;
            }
            if (check != VaultCheck.Match)
            {
                return check == VaultCheck.Missing ? AuthenticationFailure.VaultSecretMissing : AuthenticationFailure.WrongSecret;
            }
        }
        else if (!SecretHasher.Verify(clientSecret, credential.SecretHash!))
        {
            return AuthenticationFailure.WrongSecret;
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
        return new AuthenticatedAgent(agentId, credentialId, credential.SecretVersion, credential.SecurityStamp, credential.Capabilities, credential.ExpiresAt);
    }
}

/// <summary>An agent whose client secret checked out, with the credential that proved it.</summary>
public sealed record AuthenticatedAgent(
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
}

public readonly struct SecretValidationResult
{
    private SecretValidationResult(AuthenticatedAgent? agent, AuthenticationFailure? failure) => (Agent, Failure) = (agent, failure);

    public AuthenticatedAgent? Agent { get; }
    public AuthenticationFailure? Failure { get; }

    public static implicit operator SecretValidationResult(AuthenticatedAgent agent) => new(agent, null);
    public static implicit operator SecretValidationResult(AuthenticationFailure failure) => new(null, failure);
}
