using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.SigningKeys;

public sealed class SigningKeyOptions : IValidatableObject
{
    public const int EncryptionKeyBytes = 32;
    public const string Rs256 = "RS256";
    public const string Es256 = "ES256";

    /// <summary>The AES-256 key that encrypts the signing keys' private halves in PostgreSQL, base64-encoded.</summary>
    [ConfigurationKeyName("SIGNING_KEY_ENCRYPTION_KEY")]
    [Required(ErrorMessage = "SIGNING_KEY_ENCRYPTION_KEY must be set: 32 random bytes, base64-encoded (for example `openssl rand -base64 32`). It encrypts the token signing keys stored in PostgreSQL; every AuthServer replica needs the same value.")]
    public string? EncryptionKey { get; set; }

    /// <summary>
    /// While the encryption key is being changed, the one it replaces: keys stored under it are still
    /// decrypted, until <c>agentidp keys reencrypt</c> has moved them under <see cref="EncryptionKey"/>.
    /// </summary>
    [ConfigurationKeyName("SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS")]
    public string? PreviousEncryptionKey { get; set; }

    /// <summary>How long a signing key signs before a new one replaces it.</summary>
    [ConfigurationKeyName("SIGNING_KEY_LIFETIME_DAYS")]
    [Range(1, 3650, ErrorMessage = "SIGNING_KEY_LIFETIME_DAYS must be from 1 to 3650 (default 90).")]
    public int LifetimeDays { get; set; } = 90;

    /// <summary>
    /// The JWS algorithm of new signing keys: RS256 (RSA 2048, the default, which RFC 9068 requires
    /// resource servers to support) or ES256 (P-256, several times cheaper to sign with).
    /// </summary>
    [ConfigurationKeyName("SIGNING_ALGORITHM")]
    [AllowedValues(Rs256, Es256, ErrorMessage = "SIGNING_ALGORITHM must be RS256 (default) or ES256.")]
    public string Algorithm { get; set; } = Rs256;

    public TimeSpan Lifetime => TimeSpan.FromDays(LifetimeDays);

    public byte[] DecodeEncryptionKey() => Convert.FromBase64String(EncryptionKey ?? "");

    /// <summary>The previous encryption key, or null when none is set (an empty value counts as none).</summary>
    public byte[]? DecodePreviousEncryptionKey() =>
        string.IsNullOrEmpty(PreviousEncryptionKey) ? null : Convert.FromBase64String(PreviousEncryptionKey);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(EncryptionKey) && !IsEncryptionKey(EncryptionKey))
        {
            yield return new ValidationResult(
                "SIGNING_KEY_ENCRYPTION_KEY must be exactly 32 bytes, base64-encoded (for example `openssl rand -base64 32`).",
                [nameof(EncryptionKey)]);
        }
        if (!string.IsNullOrEmpty(PreviousEncryptionKey) && !IsEncryptionKey(PreviousEncryptionKey))
        {
            yield return new ValidationResult(
                "SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS must be exactly 32 bytes, base64-encoded, like SIGNING_KEY_ENCRYPTION_KEY, or not set.",
                [nameof(PreviousEncryptionKey)]);
        }
    }

    private static bool IsEncryptionKey(string value)
    {
        try
        {
            return Convert.FromBase64String(value).Length == EncryptionKeyBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
