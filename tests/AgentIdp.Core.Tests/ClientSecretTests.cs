using System.Buffers.Text;
using AgentIdp.Core.Secrets;

namespace AgentIdp.Core.Tests;

public sealed class ClientSecretTests
{
    [Fact]
    public void A_secret_has_the_prefix_the_credential_id_and_256_random_bits()
    {
        var credentialId = Guid.NewGuid();

        var secret = ClientSecret.Generate(credentialId);

        Assert.StartsWith($"aidp_{credentialId:N}_", secret);
        Assert.Equal(ClientSecret.Length, secret.Length);
        var random = Base64Url.DecodeFromChars(secret[ClientSecret.RandomPartStart..]);
        Assert.Equal(32, random.Length);
        Assert.True(ClientSecret.TryReadCredentialId(secret, out var read));
        Assert.Equal(credentialId, read);
    }

    [Fact]
    public void No_two_secrets_are_alike_even_for_one_credential()
    {
        var credentialId = Guid.NewGuid();

        var secrets = Enumerable.Range(0, 10_000).Select(_ => ClientSecret.Generate(credentialId)).ToList();

        Assert.Equal(secrets.Count, secrets.Distinct().Count());
        // Every base64url character shows up in the random parts: they are not drawn from a narrow set.
        var alphabet = secrets.SelectMany(s => s[ClientSecret.RandomPartStart..^1]).Distinct().Count();
        Assert.Equal(64, alphabet);
    }

    [Theory]
    [InlineData("")]
    [InlineData("aidp_")]
    [InlineData("sk_live_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("aidp_0000000000000000000000000000000G_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("aidp_ABCDEF00000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("aidp_00000000000000000000000000000000-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("aidp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]
    [InlineData("aidp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ")]
    [InlineData("aidp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Anything_not_in_the_exact_format_is_refused(string candidate)
    {
        Assert.False(ClientSecret.TryReadCredentialId(candidate, out _));
    }
}
