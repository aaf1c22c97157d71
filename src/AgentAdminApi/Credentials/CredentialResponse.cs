using AgentIdp.Core.Credentials;

namespace AgentAdminApi.Credentials;

/// <summary>A credential as the API shows it: never its secret, never its hash.</summary>
public record CredentialResponse(
    Guid CredentialId,
    Guid ClientId,
    string Status,
    string Storage,
    DateTime CreatedAt,
    DateTime? ExpiresAt,
    DateTime? RotatedAt,
    DateTime? RevokedAt,
    DateTime? LastUsedAt)
{
    public static CredentialResponse From(Credential credential, DateTimeOffset now) => new(
        credential.Id,
        credential.AgentId,
        StatusOf(credential, now),
        credential.Storage,
        ApiTime.Utc(credential.CreatedAt),
        ApiTime.Utc(credential.ExpiresAt),
        ApiTime.Utc(credential.RotatedAt),
        ApiTime.Utc(credential.RevokedAt),
        ApiTime.Utc(credential.LastUsedAt));

    /// <summary><c>active</c>, <c>revoked</c>, or <c>expired</c> for an active credential whose expiry has passed.</summary>
    private static string StatusOf(Credential credential, DateTimeOffset now) =>
        credential.Status == CredentialStatus.Revoked ? "revoked" : credential.ExpiresAt <= now ? "expired" : "active";
}

/// <summary>The one response that carries a credential's secret: the one that creates or rotates it.</summary>
public sealed record CredentialWithSecretResponse(
    Guid CredentialId, Guid ClientId, string Status, string Storage, DateTime CreatedAt, DateTime? ExpiresAt,
    DateTime? RotatedAt, DateTime? RevokedAt, DateTime? LastUsedAt, string ClientSecret)
    : CredentialResponse(CredentialId, ClientId, Status, Storage, CreatedAt, ExpiresAt, RotatedAt, RevokedAt, LastUsedAt)
{
    public static CredentialWithSecretResponse From(Credential credential, string secret, DateTimeOffset now)
    {
        var view = CredentialResponse.From(credential, now);
        return new(view.CredentialId, view.ClientId, view.Status, view.Storage, view.CreatedAt, view.ExpiresAt,
            view.RotatedAt, view.RevokedAt, view.LastUsedAt, secret);
    }
}

/// <summary>The optional body of <c>POST /api/v1/agents/{agentId}/credentials</c>.</summary>
public sealed record GenerateCredentialRequest(DateTimeOffset? ExpiresAt);
