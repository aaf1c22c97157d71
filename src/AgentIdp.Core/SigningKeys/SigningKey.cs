namespace AgentIdp.Core.SigningKeys;

/// <summary>
/// A token signing key shared by every AuthServer replica. The private key is stored encrypted
/// (AES-256-GCM under SIGNING_KEY_ENCRYPTION_KEY); the public half is derived from it.
/// </summary>
public sealed class SigningKey
{
    /// <summary>The JWK <c>kid</c>.</summary>
    public required string Id { get; set; }
    public required string Algorithm { get; set; }
    /// <summary>nonce ‖ tag ‖ ciphertext of the PKCS#8 private key, with the kid as associated data.</summary>
    public required byte[] EncryptedPrivateKey { get; set; }
    /// <summary>Identifies the encryption key that protects <see cref="EncryptedPrivateKey"/>.</summary>
    public required string EncryptionKeyId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When the key starts signing. A successor is published ahead of it, so that every replica and resource server knows it in time.</summary>
    public DateTimeOffset ActivatesAt { get; set; }
    /// <summary>When the key stops signing; it stays published until the tokens it signed have expired.</summary>
    public DateTimeOffset RetiresAt { get; set; }
    /// <summary>When an operator withdrew the key (<c>agentidp keys retire</c>): from then on it neither signs nor is published.</summary>
    public DateTimeOffset? WithdrawnAt { get; set; }
}
