using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.SigningKeys;

/// <summary>What a rotation did: the key it created and the keys it superseded.</summary>
/// <param name="Cut">Keys that signed, or were to sign, past the new key's activation: they now retire at it.</param>
/// <param name="Withdrawn">Keys that were to start signing only after it: they never will, and are withdrawn.</param>
public sealed record SigningKeyRotation(SigningKey Created, IReadOnlyList<SigningKey> Cut, IReadOnlyList<SigningKey> Withdrawn);

/// <summary>What withdrawing a key did; <paramref name="Successor"/> is set when it was signing.</summary>
public sealed record SigningKeyWithdrawal(SigningKey Key, bool AlreadyWithdrawn, SigningKeyRotation? Successor);

/// <summary>What re-encryption did; when <paramref name="Unreadable"/> is not empty it changed nothing.</summary>
public sealed record SigningKeyReencryption(int Reencrypted, int AlreadyCurrent, IReadOnlyList<SigningKey> Unreadable);

/// <summary>
/// Every change to the <c>signing_keys</c> table, by the AuthServer's key ring and by the operator command
/// alike: each in one transaction under one advisory lock, so replicas and operators take turns and a key
/// is never created twice. New private keys are encrypted under SIGNING_KEY_ENCRYPTION_KEY.
/// </summary>
public sealed class SigningKeyLifecycle(AgentIdpDbContext db, SigningKeyProtector protector, IOptions<SigningKeyOptions> options, TimeProvider time)
{
    private const int RsaKeySize = 2048;
    /// <summary>Transaction-level advisory lock taken by every change to the signing keys ("AIDPSKEY").</summary>
    private const long LockKey = 0x4149_4450_534B_4559;

    private string Algorithm => options.Value.Algorithm;
    private TimeSpan Lifetime => options.Value.Lifetime;

    /// <summary>
    /// The key ring's successor: a key of SIGNING_ALGORITHM, unless one already retires later than
    /// <see cref="SigningKeySchedule.SuccessorLead"/> from now. It takes over when its predecessor retires;
    /// the first key of an algorithm waits until every replica has published it, unless no key signs at all
    /// (a new deployment). Returns the key created, or null if another replica had made it.
    /// </summary>
    public Task<SigningKey?> CreateScheduledSuccessorAsync(CancellationToken cancellationToken) =>
        InLockAsync<SigningKey?>(async now =>
        {
            var current = db.SigningKeys.Where(k => k.WithdrawnAt == null);
            var latestRetirement = await current.Where(k => k.Algorithm == Algorithm).MaxAsync(k => (DateTimeOffset?)k.RetiresAt, cancellationToken);
            if (latestRetirement > now + SigningKeySchedule.SuccessorLead(Lifetime))
            {
                return null;
            }
            var anyActive = await current.AnyAsync(k => k.ActivatesAt <= now && k.RetiresAt > now, cancellationToken);
            var activatesAt = latestRetirement > now ? latestRetirement.Value : anyActive ? now + SigningKeySchedule.PublicationLead : now;
            return Add(Algorithm, now, activatesAt);
        }, cancellationToken);

    /// <summary>
    /// A new key of SIGNING_ALGORITHM that replaces that algorithm's current one: published at once, signing
    /// after <see cref="SigningKeySchedule.PublicationLead"/>, or at once when <paramref name="immediately"/>
    /// or when no key signs at all (there is nothing to keep signing meanwhile).
    /// </summary>
    public Task<SigningKeyRotation> RotateAsync(bool immediately, CancellationToken cancellationToken) =>
        InLockAsync(async now =>
        {
            var anyActive = await db.SigningKeys.AnyAsync(k => k.WithdrawnAt == null && k.ActivatesAt <= now && k.RetiresAt > now, cancellationToken);
            var activatesAt = immediately || !anyActive ? now : now + SigningKeySchedule.PublicationLead;
            return await ReplaceAsync(Algorithm, now, activatesAt, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Stops publishing a key at once. If it was signing, a successor of its algorithm signs from now on.
    /// Returns null when no key has that id.
    /// </summary>
    public Task<SigningKeyWithdrawal?> WithdrawAsync(string keyId, CancellationToken cancellationToken) =>
        InLockAsync(async now =>
        {
            var key = await db.SigningKeys.SingleOrDefaultAsync(k => k.Id == keyId, cancellationToken);
            if (key is null || key.WithdrawnAt is not null)
            {
                return key is null ? null : new SigningKeyWithdrawal(key, AlreadyWithdrawn: true, Successor: null);
            }
            var sameAlgorithm = await db.SigningKeys.Where(k => k.Algorithm == key.Algorithm && k.WithdrawnAt == null).ToListAsync(cancellationToken);
            var wasSigning = SigningKeySchedule.SigningAt(sameAlgorithm, now).Contains(key.Id);
            key.WithdrawnAt = now;
            await db.SaveChangesAsync(cancellationToken);
            var successor = wasSigning ? await ReplaceAsync(key.Algorithm, now, now, cancellationToken) : null;
            return new SigningKeyWithdrawal(key, AlreadyWithdrawn: false, successor);
        }, cancellationToken);

    /// <summary>
    /// Moves every stored private key under SIGNING_KEY_ENCRYPTION_KEY, from SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS.
    /// Keys already under the current one are left as they are; if any key is under neither, or does not
    /// decrypt, nothing changes.
    /// </summary>
    public Task<SigningKeyReencryption> ReencryptAsync(CancellationToken cancellationToken) =>
        InLockAsync(async _ =>
        {
            var keys = await db.SigningKeys.OrderBy(k => k.CreatedAt).ToListAsync(cancellationToken);
            var unreadable = new List<SigningKey>();
            var reencrypted = 0;
            foreach (var key in keys.Where(k => k.EncryptionKeyId != protector.EncryptionKeyId))
            {
                byte[] privateKey;
                try
                {
                    privateKey = protector.Unprotect(key);
                }
                catch (CryptographicException)
                {
                    unreadable.Add(key);
                    continue;
                }
                try
                {
                    key.EncryptedPrivateKey = protector.Protect(key.Id, privateKey);
                    key.EncryptionKeyId = protector.EncryptionKeyId;
                    reencrypted++;
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(privateKey);
                }
            }
            if (unreadable.Count > 0)
            {
                db.ChangeTracker.Clear(); // nothing is saved
                return new SigningKeyReencryption(0, 0, unreadable);
            }
            return new SigningKeyReencryption(reencrypted, keys.Count - reencrypted, []);
        }, cancellationToken);

    /// <summary>
    /// Adds a key of <paramref name="algorithm"/> that signs from <paramref name="activatesAt"/>, and makes it
    /// that algorithm's newest: keys that would sign past that instant retire at it, those that would only
    /// start signing later are withdrawn (they never signed, so no token names them).
    /// </summary>
    private async Task<SigningKeyRotation> ReplaceAsync(string algorithm, DateTimeOffset now, DateTimeOffset activatesAt, CancellationToken cancellationToken)
    {
        var superseded = await db.SigningKeys
            .Where(k => k.Algorithm == algorithm && k.WithdrawnAt == null && k.RetiresAt > activatesAt)
            .ToListAsync(cancellationToken);
        var cut = new List<SigningKey>();
        var withdrawn = new List<SigningKey>();
        foreach (var key in superseded)
        {
            if (key.ActivatesAt < activatesAt)
            {
                key.RetiresAt = activatesAt;
                cut.Add(key);
            }
            else
            {
                key.WithdrawnAt = now;
                withdrawn.Add(key);
            }
        }
        return new SigningKeyRotation(Add(algorithm, now, activatesAt), cut, withdrawn);
    }

    private SigningKey Add(string algorithm, DateTimeOffset now, DateTimeOffset activatesAt)
    {
        var (keyId, privateKey) = NewKeyPair(algorithm);
        try
        {
            var key = new SigningKey
            {
                Id = keyId,
                Algorithm = algorithm,
                EncryptedPrivateKey = protector.Protect(keyId, privateKey),
                EncryptionKeyId = protector.EncryptionKeyId,
                CreatedAt = now,
                ActivatesAt = activatesAt,
                RetiresAt = activatesAt + Lifetime,
            };
            db.SigningKeys.Add(key);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    /// <summary>Runs a change in a transaction under the advisory lock, with the time read once the lock is held, and commits it.</summary>
    private async Task<T> InLockAsync<T>(Func<DateTimeOffset, Task<T>> change, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
                var result = await change(time.GetUtcNow());
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        });
    }

    /// <summary>A new key pair: its JWK thumbprint (RFC 7638) as the kid, and its PKCS#8 private key.</summary>
    private static (string KeyId, byte[] PrivateKey) NewKeyPair(string algorithm)
    {
        if (algorithm == SigningKeyOptions.Es256)
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var point = ecdsa.ExportParameters(false).Q;
            return (Thumbprint($$"""{"crv":"P-256","kty":"EC","x":"{{Base64Url.EncodeToString(point.X)}}","y":"{{Base64Url.EncodeToString(point.Y)}}"}"""),
                ecdsa.ExportPkcs8PrivateKey());
        }
        using var rsa = RSA.Create(RsaKeySize);
        var parameters = rsa.ExportParameters(false);
        return (Thumbprint($$"""{"e":"{{Base64Url.EncodeToString(parameters.Exponent)}}","kty":"RSA","n":"{{Base64Url.EncodeToString(parameters.Modulus)}}"}"""),
            rsa.ExportPkcs8PrivateKey());
    }

    /// <summary>RFC 7638: the SHA-256 of the public key's required members, in lexical order, without whitespace.</summary>
    private static string Thumbprint(string canonicalJwk) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJwk)));
}
