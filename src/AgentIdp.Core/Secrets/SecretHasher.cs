using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using BCryptNet = BCrypt.Net.BCrypt;
using HashType = BCrypt.Net.HashType;

namespace AgentIdp.Core.Secrets;

/// <summary>
/// bcrypt hashes of client secrets. Secrets are longer than bcrypt's 72-byte input limit, so they
/// are pre-hashed with SHA-384 (bcrypt's "enhanced entropy" mode): every character counts.
/// </summary>
public sealed class SecretHasher
{
    private readonly int _cost;
    private readonly Lazy<string> _decoyHash;

    public SecretHasher(IOptions<SecretHashingOptions> options)
    {
        _cost = options.Value.BcryptCost;
        _decoyHash = new(() => Hash(ClientSecret.Generate(Guid.NewGuid())));
    }

    public string Hash(string secret) => BCryptNet.EnhancedHashPassword(secret, HashType.SHA384, _cost);

    /// <summary>Checks a secret against a stored hash; the final comparison takes the same time wherever the hashes differ.</summary>
    public static bool Verify(string secret, string storedHash)
    {
        string computed;
        try
        {
            computed = BCryptNet.HashPassword(secret, storedHash, enhancedEntropy: true, HashType.SHA384);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false; // a stored hash that is not bcrypt authenticates nothing
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(computed), Encoding.UTF8.GetBytes(storedHash));
    }

    /// <summary>
    /// Does the work of one verification and fails, so that a request naming no existing credential
    /// takes as long as one with a wrong secret: from outside, the two look the same.
    /// </summary>
    public void VerifyDecoy(string secret) => Verify(secret, _decoyHash.Value);
}
