using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace AgentIdp.Core.Secrets;

/// <summary>
/// The format of a client secret: <c>aidp_{credentialId:N}_{43 base64url characters}</c>.
/// The fixed prefix lets secret scanners find leaked secrets; the credential id lets the token
/// endpoint find the one credential to check; the random part carries 256 bits from
/// <see cref="RandomNumberGenerator"/>.
/// </summary>
public static class ClientSecret
{
    public const string Prefix = "aidp_";
    public const int RandomBytes = 32;
    private const int CredentialIdLength = 32; // Guid "N" format
    /// <summary>Where the random part starts: after the prefix, the credential id and an underscore.</summary>
    public const int RandomPartStart = 5 + CredentialIdLength + 1;
    public static readonly int Length = RandomPartStart + Base64Url.GetEncodedLength(RandomBytes);
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
    private static readonly SearchValues<char> Base64UrlAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string Generate(Guid credentialId)
    {
        Span<byte> random = stackalloc byte[RandomBytes];
        Span<char> chars = stackalloc char[Length];
        try
        {
            RandomNumberGenerator.Fill(random);
            Prefix.CopyTo(chars);
            credentialId.TryFormat(chars[Prefix.Length..], out _, "N");
            chars[RandomPartStart - 1] = '_';
            Base64Url.EncodeToChars(random, chars[RandomPartStart..]);
            return new string(chars);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(random);
            chars.Clear();
        }
    }

    /// <summary>Reads the credential id out of a secret, or fails if the secret is not in AgentIdP's format.</summary>
    public static bool TryReadCredentialId(ReadOnlySpan<char> secret, out Guid credentialId)
    {
        credentialId = Guid.Empty;
        if (secret.Length != Length || !secret.StartsWith(Prefix, StringComparison.Ordinal) || secret[RandomPartStart - 1] != '_')
        {
            return false;
        }
        // One secret has one spelling: lower-case hex for the id, the base64url alphabet for the rest.
        var id = secret[Prefix.Length..(RandomPartStart - 1)];
        if (id.ContainsAnyExcept(LowerHex) ||
            secret[RandomPartStart..].ContainsAnyExcept(Base64UrlAlphabet))
        {
            return false;
        }
        return Guid.TryParseExact(id, "N", out credentialId);
    }
}
