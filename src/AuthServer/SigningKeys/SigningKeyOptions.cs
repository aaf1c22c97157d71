using Microsoft.IdentityModel.Tokens;
using System.ComponentModel.DataAnnotations;

namespace AuthServer.SigningKeys;

public sealed class SigningKeyOptions : IValidatableObject
{
    public const int EncryptionKeyBytes = 32;

    /// <summary>The AES-256 key that encrypts the signing keys' private halves in PostgreSQL, base64-encoded.</summary>
    [ConfigurationKeyName("SIGNING_KEY_ENCRYPTION_KEY")]
    [Required(ErrorMessage = "SIGNING_KEY_ENCRYPTION_KEY must be set: 32 random bytes, base64-encoded (for example `openssl rand -base64 32`). It encrypts the token signing keys stored in PostgreSQL; every AuthServer replica needs the same value.")]
    public string? EncryptionKey { get; set; }

    /// <summary>How long a signing key signs before a new one replaces it.</summary>
    [ConfigurationKeyName("SIGNING_KEY_LIFETIME_DAYS")]
    [Range(1, 3650, ErrorMessage = "SIGNING_KEY_LIFETIME_DAYS must be from 1 to 3650 (default 90).")]
    public int LifetimeDays { get; set; } = 90;

    /// <summary>
    /// The JWS algorithm of new signing keys: RS256 (RSA 2048, the default, which RFC 9068 requires
    /// resource servers to support) or ES256 (P-256, several times cheaper to sign with).
    /// </summary>
    [ConfigurationKeyName("SIGNING_ALGORITHM")]
    [AllowedValues(SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256,
        ErrorMessage = "SIGNING_ALGORITHM must be RS256 (default) or ES256.")]
    public string Algorithm { get; set; } = SecurityAlgorithms.RsaSha256;

    public byte[] DecodeEncryptionKey() => Convert.FromBase64String(EncryptionKey ?? "");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(EncryptionKey))
        {
            yield break;
        }
        var valid = false;
        try
        {
            valid = DecodeEncryptionKey().Length == EncryptionKeyBytes;
        }
        catch (FormatException)
        {
        }
        if (!valid)
        {
            yield return new ValidationResult(
                "SIGNING_KEY_ENCRYPTION_KEY must be exactly 32 bytes, base64-encoded (for example `openssl rand -base64 32`).",
                [nameof(EncryptionKey)]);
        }
    }
}
