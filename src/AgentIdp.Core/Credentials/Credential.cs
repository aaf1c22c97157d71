namespace AgentIdp.Core.Credentials;

/// <summary>
/// One client secret of an agent. The secret itself is never stored here: only its bcrypt hash, or where
/// Vault keeps it.
/// </summary>
public sealed class Credential
{
    public Guid Id { get; set; }
    public Guid AgentId { get; set; }
    public Agents.Agent? Agent { get; set; }

    /// <summary>bcrypt hash of the secret (SHA-384 pre-hashed, so that every character of it counts); null for a Vault-backed credential.</summary>
    public string? SecretHash { get; set; }

    /// <summary>
    /// Where Vault keeps the secret, as <c>{mount}/data/agentidp/agents/{agentId}/credentials/{credentialId}</c>;
    /// null for a bcrypt credential.
    /// </summary>
    public string? VaultPath { get; set; }

    /// <summary>
    /// The KV v2 version that authenticates. Only this version is read, so a version written to Vault counts
    /// once the row naming it is committed, and never before.
    /// </summary>
    public int? VaultVersion { get; set; }

    public bool IsVaultBacked => VaultPath is not null && VaultVersion is not null;

    /// <summary>Where the secret is checked: <see cref="CredentialStorage.Vault"/> or <see cref="CredentialStorage.Bcrypt"/>.</summary>
    public string Storage => IsVaultBacked ? CredentialStorage.Vault : CredentialStorage.Bcrypt;

    /// <summary>Incremented by each rotation; tokens carry it, so tokens issued before a rotation stop being valid.</summary>
    public int SecretVersion { get; set; } = 1;

    public CredentialStatus Status { get; set; } = CredentialStatus.Active;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RotatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
}

public enum CredentialStatus { Active, Revoked }

/// <summary>The names of the places a credential's secret lives, as the API and the audit log give them.</summary>
public static class CredentialStorage
{
    public const string Bcrypt = "bcrypt";
    public const string Vault = "vault";
}
