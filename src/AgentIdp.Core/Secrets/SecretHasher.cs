using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using BCryptNet = BCrypt.Net.BCrypt;
using HashType = BCrypt.Net.HashType;

namespace AgentIdp.Core.Secrets;

/// <summary>
/// bcrypt hashes of client secrets. Secrets are longer than bcrypt's 72-byte input limit, so they
/// are pre-hashed with SHA-384 (bcrypt's "enhanced entropy" mode): every character counts.
/// </summary>
public sealed partial class SecretHasher
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
        if (!BcryptHash().IsMatch(storedHash))
        {
            return false; // a stored value that is not a bcrypt hash authenticates nothing
        }
        var computed = BCryptNet.HashPassword(secret, storedHash, enhancedEntropy: true, HashType.SHA384);
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(computed), Encoding.UTF8.GetBytes(storedHash));
    }

    [GeneratedRegex(@"\A\$2[abxy]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}\z", RegexOptions.CultureInvariant)]
    private static partial Regex BcryptHash();

    /// <summary>
    /// Does the work of one verification and fails, so that a request naming no existing credential
    /// takes as long as one with a wrong secret: from outside, the two look the same.
    /// </summary>
    public void VerifyDecoy(string secret) => Verify(secret, _decoyHash.Value);
}
