using System.Net;
using System.Security.Cryptography;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Testing;
using AuthServer.SigningKeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests;

public sealed class SigningKeyTests
{
    private static async Task<TestData> NewDatabaseAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    /// <summary>What any resource server does: fetch the JWKS, validate signature, issuer, audience, type and lifetime.</summary>
    internal static async Task<TokenValidationResult> ValidateAsResourceServerAsync(HttpClient client, string token, bool validateLifetime = true,
        string algorithm = SecurityAlgorithms.RsaSha256)
    {
        var jwks = new JsonWebKeySet(await client.GetStringAsync("/.well-known/jwks"));
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = AuthServerFactory.Issuer,
            ValidAudience = "agentidp",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = [algorithm],
            ValidateLifetime = validateLifetime,
        });
    }

    [Fact]
    public async Task A_resource_server_validates_a_token_against_the_jwks_with_the_standard_handler()
    {
        var data = await NewDatabaseAsync();
        await using var factory = new AuthServerFactory(data.ConnectionString);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var token = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        var result = await ValidateAsResourceServerAsync(client, token);

        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal(agent.Id.ToString(), result.Claims["sub"]);
        var tampered = token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.False((await ValidateAsResourceServerAsync(client, tampered)).IsValid);
    }

    [Fact]
    public async Task A_restart_keeps_issued_tokens_valid()
    {
        var data = await NewDatabaseAsync();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var (introspector, introspectorCredential) = await data.CreateAgentWithCredentialAsync(["tokens:read"]);
        string token;
        string keyId;
        await using (var before = new AuthServerFactory(data.ConnectionString))
        {
            using var client = before.CreateClient();
            token = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
            keyId = new JsonWebToken(token).Kid;
        }

        await using var after = new AuthServerFactory(data.ConnectionString);
        using var restarted = after.CreateClient();

        Assert.True((await ValidateAsResourceServerAsync(restarted, token)).IsValid);
        using var introspection = await restarted.IntrospectAsync(introspector.Id.ToString(), introspectorCredential.ClientSecret, token);
        Assert.True((await introspection.JsonAsync()).GetProperty("active").GetBoolean());
        var next = await restarted.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(keyId, new JsonWebToken(next).Kid);
    }

    [Fact]
    public async Task Replicas_starting_together_share_one_signing_key()
    {
        var data = await NewDatabaseAsync();
        var factories = Enumerable.Range(0, 3).Select(_ => new AuthServerFactory(data.ConnectionString)).ToList();
        try
        {
            var clients = await Task.WhenAll(factories.Select(f => Task.Run(f.CreateClient)));
            var (agent, credential) = await data.CreateAgentWithCredentialAsync();

            var tokens = await Task.WhenAll(clients.Select(c => c.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret)));

            Assert.Single(tokens.Select(t => new JsonWebToken(t).Kid).Distinct());
            await using var db = data.Open();
            Assert.Equal(1, await db.SigningKeys.CountAsync());
            foreach (var client in clients)
            {
                Assert.True((await ValidateAsResourceServerAsync(client, tokens[0])).IsValid);
            }
        }
        finally
        {
            foreach (var factory in factories)
            {
                await factory.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Private_keys_are_stored_encrypted()
    {
        var data = await NewDatabaseAsync();
        await using var factory = new AuthServerFactory(data.ConnectionString);
        using var client = factory.CreateClient();
        var jwk = new JsonWebKeySet(await client.GetStringAsync("/.well-known/jwks")).Keys.Single();

        await using var db = data.Open();
        var stored = await db.SigningKeys.SingleAsync();

        Assert.Equal(jwk.Kid, stored.Id);
        Assert.Equal("RS256", stored.Algorithm);
        using var rsa = RSA.Create();
        Assert.ThrowsAny<CryptographicException>(() => rsa.ImportPkcs8PrivateKey(stored.EncryptedPrivateKey, out _));
        // The modulus, which any PKCS#8 RSA key contains in clear, appears nowhere in what is stored.
        var modulus = Base64UrlEncoder.DecodeBytes(jwk.N);
        Assert.Equal(-1, stored.EncryptedPrivateKey.AsSpan().IndexOf(modulus.AsSpan(0, 32)));
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("ES256")]
    public async Task A_key_id_is_the_RFC_7638_thumbprint_of_the_published_key(string algorithm)
    {
        var data = await NewDatabaseAsync();
        await using var factory = new AuthServerFactory(data.ConnectionString, new Dictionary<string, string?> { ["SIGNING_ALGORITHM"] = algorithm });
        using var client = factory.CreateClient();

        var jwk = new JsonWebKeySet(await client.GetStringAsync("/.well-known/jwks")).Keys.Single();

        Assert.Equal(algorithm, jwk.Alg);
        Assert.Equal(Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()), jwk.Kid);
    }

    private static Task<ServiceProcess.Outcome> RunAuthServerAsync(string connectionString, string? encryptionKey) =>
        ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = connectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = encryptionKey,
        }, TimeSpan.FromSeconds(30));

    [Fact]
    public async Task A_replica_with_another_encryption_key_refuses_to_start_and_says_why()
    {
        var data = await NewDatabaseAsync();
        await using (var first = new AuthServerFactory(data.ConnectionString))
        {
            first.CreateClient().Dispose();
        }

        var outcome = await RunAuthServerAsync(data.ConnectionString, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("AuthServer cannot start: SIGNING_KEY_ENCRYPTION_KEY (id", outcome.Output);
        await using var db = data.Open();
        Assert.Equal(1, await db.SigningKeys.CountAsync()); // it did not paper over the problem with a key of its own
    }

    [Theory]
    [InlineData(null, "SIGNING_KEY_ENCRYPTION_KEY must be set")]
    [InlineData("c2hvcnQ=", "SIGNING_KEY_ENCRYPTION_KEY must be exactly 32 bytes")]
    public async Task A_missing_or_malformed_encryption_key_stops_the_start_with_a_message_naming_it(string? value, string message)
    {
        var data = await NewDatabaseAsync();

        var outcome = await RunAuthServerAsync(data.ConnectionString, value);

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains($"AuthServer cannot start: {message}", outcome.Output);
        Assert.DoesNotContain("Unhandled exception", outcome.Output);
    }

    [Fact]
    public async Task Keys_rotate_on_schedule_and_a_retired_key_stays_published_while_its_tokens_live()
    {
        var data = await NewDatabaseAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new AuthServerFactory(data.ConnectionString,
            new Dictionary<string, string?> { ["SIGNING_KEY_LIFETIME_DAYS"] = "30" }, time);
        using var client = factory.CreateClient();
        var ring = factory.Services.GetRequiredService<SigningKeyRing>();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        async Task<IReadOnlyList<string>> PublishedAsync() =>
            [.. new JsonWebKeySet(await client.GetStringAsync("/.well-known/jwks")).Keys.Select(k => k.Kid)];

        var first = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var firstKey = new JsonWebToken(first).Kid;

        // Two days before retirement the successor is published, but does not sign yet.
        time.Advance(TimeSpan.FromDays(28.5));
        await ring.RefreshAsync(CancellationToken.None);
        var published = await PublishedAsync();
        Assert.Equal(2, published.Count);
        var successor = published.Single(k => k != firstKey);
        Assert.Equal(firstKey, new JsonWebToken(await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret)).Kid);

        // At retirement every replica switches to the successor; the old key still verifies its tokens.
        time.Advance(TimeSpan.FromDays(1.5) + TimeSpan.FromSeconds(1));
        await ring.RefreshAsync(CancellationToken.None);
        var late = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(successor, new JsonWebToken(late).Kid);
        Assert.Contains(firstKey, await PublishedAsync());
        Assert.True((await ValidateAsResourceServerAsync(client, first, validateLifetime: false)).IsValid);

        // Once every token it signed has expired, the retired key leaves the JWKS.
        time.Advance(TimeSpan.FromHours(1) + SigningKeySchedule.RefreshInterval * 2 + TimeSpan.FromSeconds(1));
        await ring.RefreshAsync(CancellationToken.None);
        Assert.Equal([successor], await PublishedAsync());
        await using var db = data.Open();
        Assert.Equal(2, await db.SigningKeys.CountAsync());
    }
}
