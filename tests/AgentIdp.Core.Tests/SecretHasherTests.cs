using AgentIdp.Core.Secrets;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Tests;

public sealed class SecretHasherTests
{
    private static SecretHasher Hasher(int cost = 4) => new(Options.Create(new SecretHashingOptions { BcryptCost = cost }));

    [Fact]
    public void A_hash_verifies_its_secret_and_nothing_else()
    {
        var secret = ClientSecret.Generate(Guid.NewGuid());
        var hash = Hasher().Hash(secret);

        Assert.True(SecretHasher.Verify(secret, hash));
        Assert.False(SecretHasher.Verify(ClientSecret.Generate(Guid.NewGuid()), hash));
        Assert.DoesNotContain(secret[10..], hash);
    }

    [Fact]
    public void Characters_past_bcrypts_72_byte_limit_still_count()
    {
        var secret = ClientSecret.Generate(Guid.NewGuid());
        Assert.True(secret.Length > 72);
        var hash = Hasher().Hash(secret);

        var lastCharacterChanged = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');

        Assert.False(SecretHasher.Verify(lastCharacterChanged, hash));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(5)]
    public void The_hash_uses_the_configured_cost(int cost)
    {
        var hash = Hasher(cost).Hash("whatever");

        Assert.Equal(cost, BCrypt.Net.BCrypt.InterrogateHash(hash).WorkFactor is var w ? int.Parse(w) : 0);
    }

    [Fact]
    public void The_default_cost_is_10()
    {
        Assert.Equal(10, new SecretHashingOptions().BcryptCost);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a bcrypt hash")]
    [InlineData("$2a$xx$abc")]
    public void A_corrupt_stored_hash_authenticates_nothing(string storedHash)
    {
        Assert.False(SecretHasher.Verify("aidp_anything", storedHash));
    }

    [Fact]
    public void The_decoy_verification_costs_a_real_verification()
    {
        var hasher = Hasher(8);
        var secret = ClientSecret.Generate(Guid.NewGuid());
        var hash = hasher.Hash(secret);
        hasher.VerifyDecoy(secret); // builds the decoy hash once

        var real = Measure(() => SecretHasher.Verify(secret, hash));
        var decoy = Measure(() => hasher.VerifyDecoy(secret));

        // Same work factor, so within a broad factor of each other (timing on a shared machine is noisy).
        Assert.InRange(decoy.TotalMilliseconds, real.TotalMilliseconds / 4, real.TotalMilliseconds * 4);

        static TimeSpan Measure(Action action)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < 5; i++)
            {
                action();
            }
            return watch.Elapsed;
        }
    }
}
