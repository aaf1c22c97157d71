using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.SigningKeys;

/// <summary>
/// Encrypts signing keys' private halves for storage with AES-256-GCM under SIGNING_KEY_ENCRYPTION_KEY.
/// The key id is bound in as associated data, so a stored key cannot be swapped onto another row. While
/// the encryption key is being changed, keys stored under SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS are still
/// decrypted: each row names the encryption key it is under.
/// </summary>
public sealed class SigningKeyProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;
    private readonly byte[]? _previousKey;

    public SigningKeyProtector(IOptions<SigningKeyOptions> options)
    {
        _key = options.Value.DecodeEncryptionKey();
        EncryptionKeyId = IdOf(_key);
        _previousKey = options.Value.DecodePreviousEncryptionKey();
        PreviousEncryptionKeyId = _previousKey is null ? null : IdOf(_previousKey);
    }

    /// <summary>Names SIGNING_KEY_ENCRYPTION_KEY without revealing it, so a mismatch can be reported plainly.</summary>
    public string EncryptionKeyId { get; }

    /// <summary>Names SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS, when it is set.</summary>
    public string? PreviousEncryptionKeyId { get; }

    /// <summary>Whether a row stored under this encryption key id can be decrypted here.</summary>
    public bool CanDecrypt(string encryptionKeyId) =>
        encryptionKeyId == EncryptionKeyId || (PreviousEncryptionKeyId is not null && encryptionKeyId == PreviousEncryptionKeyId);

    /// <summary>Encrypts under SIGNING_KEY_ENCRYPTION_KEY; the row is to carry <see cref="EncryptionKeyId"/>.</summary>
    public byte[] Protect(string keyId, ReadOnlySpan<byte> privateKey)
    {
        var blob = new byte[NonceSize + TagSize + privateKey.Length];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, privateKey, blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(keyId));
        return blob;
    }

    /// <summary>
    /// Decrypts a stored key with the encryption key its row names, the current or the previous one; throws
    /// <see cref="CryptographicException"/> if it is under neither, or was altered.
    /// </summary>
    public byte[] Unprotect(SigningKey key)
    {
        var encryptionKey = key.EncryptionKeyId == EncryptionKeyId ? _key
            : _previousKey is not null && key.EncryptionKeyId == PreviousEncryptionKeyId ? _previousKey
            : throw new CryptographicException($"Signing key {key.Id} is encrypted under another encryption key ({key.EncryptionKeyId}).");
        var blob = key.EncryptedPrivateKey;
        if (blob.Length <= NonceSize + TagSize)
        {
            throw new CryptographicException("The stored signing key is truncated.");
        }
        var privateKey = new byte[blob.Length - NonceSize - TagSize];
        using var aes = new AesGcm(encryptionKey, TagSize);
        aes.Decrypt(blob.AsSpan(0, NonceSize), blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), privateKey, Encoding.UTF8.GetBytes(key.Id));
        return privateKey;
    }

    private static string IdOf(byte[] encryptionKey) => Convert.ToHexStringLower(SHA256.HashData(encryptionKey))[..16];
}
