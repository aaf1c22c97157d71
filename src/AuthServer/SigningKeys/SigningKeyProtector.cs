using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuthServer.SigningKeys;

/// <summary>
/// Encrypts signing keys' private halves for storage with AES-256-GCM under SIGNING_KEY_ENCRYPTION_KEY.
/// The key id is bound in as associated data, so a stored key cannot be swapped onto another row.
/// </summary>
public sealed class SigningKeyProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SigningKeyProtector(IOptions<SigningKeyOptions> options)
    {
        _key = options.Value.DecodeEncryptionKey();
        // Names the encryption key without revealing it, so a mismatch can be reported plainly.
        EncryptionKeyId = Convert.ToHexStringLower(SHA256.HashData(_key))[..16];
    }

    public string EncryptionKeyId { get; }

    public byte[] Protect(string keyId, ReadOnlySpan<byte> privateKey)
    {
        var blob = new byte[NonceSize + TagSize + privateKey.Length];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, privateKey, blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(keyId));
        return blob;
    }

    /// <summary>Decrypts a stored key; throws <see cref="CryptographicException"/> if it was altered or encrypted under another key.</summary>
    public byte[] Unprotect(string keyId, byte[] blob)
    {
        if (blob.Length <= NonceSize + TagSize)
        {
            throw new CryptographicException("The stored signing key is truncated.");
        }
        var privateKey = new byte[blob.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(blob.AsSpan(0, NonceSize), blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), privateKey, Encoding.UTF8.GetBytes(keyId));
        return privateKey;
    }
}
