namespace AgentIdp.Core.Tokens;

/// <summary>An access token revoked before its expiry (RFC 7009). Kept until the token would have expired anyway.</summary>
public sealed class RevokedToken
{
    /// <summary>The token's <c>jti</c>.</summary>
    public required string TokenId { get; set; }
    public Guid? AgentId { get; set; }
    public DateTimeOffset RevokedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}
