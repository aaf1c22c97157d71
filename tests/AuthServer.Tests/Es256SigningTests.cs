using System.Net;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Testing;
using AuthServer.SigningKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests;

/// <summary>SIGNING_ALGORITHM=ES256: P-256 keys, stored and published like the RSA ones.</summary>
public sealed class Es256SigningTests
{
    private static readonly Dictionary<string, string?> Es256 = new() { ["SIGNING_ALGORITHM"] = "ES256" };

    private static async Task<TestData> NewDatabaseAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    private static Task<TokenValidationResult> ValidateAsResourceServerAsync(HttpClient client, string token, string algorithm) =>
        SigningKeyTests.ValidateAsResourceServerAsync(client, token, algorithm: algorithm);

    [Fact]
    public async Task Tokens_are_signed_with_a_stored_P256_key_that_the_jwks_publishes()
    {
        var data = await NewDatabaseAsync();
        await using var factory = new AuthServerFactory(data.ConnectionString, Es256);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();

        var token = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal("ES256", new JsonWebToken(token).Alg);
        var result = await ValidateAsResourceServerAsync(client, token, SecurityAlgorithms.EcdsaSha256);
        Assert.True(result.IsValid, result.Exception?.Message);
        var key = Assert.Single((await (await client.GetAsync("/.well-known/jwks")).JsonAsync()).GetProperty("keys").EnumerateArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("P-256", key.GetProperty("crv").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.Equal(new JsonWebToken(token).Kid, key.GetProperty("kid").GetString());
        Assert.False(key.TryGetProperty("d", out _));
        await using var db = data.Open();
        var stored = await db.SigningKeys.SingleAsync();
        Assert.Equal("ES256", stored.Algorithm);
        Assert.Equal(stored.Id, key.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task Switching_from_RS256_to_ES256_publishes_the_new_key_first_then_signs_with_it_and_RS256_tokens_stay_valid()
    {
        var data = await NewDatabaseAsync();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        string rsaToken;
        await using (var rsa = new AuthServerFactory(data.ConnectionString))
        {
            using var client = rsa.CreateClient();
            rsaToken = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        }

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var ec = new AuthServerFactory(data.ConnectionString, Es256, time);
        using var ecClient = ec.CreateClient();
        // The ES256 key is published at once, but signs only once every replica has had time to load it.
        var duringSwitch = await ecClient.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var jwks = (await (await ecClient.GetAsync("/.well-known/jwks")).JsonAsync()).GetProperty("keys").EnumerateArray()
            .Select(key => key.GetProperty("alg").GetString()).Order().ToList();
        time.Advance(SigningKeySchedule.PublicationLead + TimeSpan.FromSeconds(1));
        await ec.Services.GetRequiredService<SigningKeyRing>().RefreshAsync(CancellationToken.None);
        var afterSwitch = await ecClient.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(["ES256", "RS256"], jwks);
        Assert.Equal("RS256", new JsonWebToken(rsaToken).Alg);
        Assert.Equal("RS256", new JsonWebToken(duringSwitch).Alg);
        Assert.Equal("ES256", new JsonWebToken(afterSwitch).Alg);
        Assert.True((await ValidateAsResourceServerAsync(ecClient, rsaToken, SecurityAlgorithms.RsaSha256)).IsValid);
        // Signed on this server's clock, ten minutes ahead of the real one: the signature is what is checked here.
        Assert.True((await SigningKeyTests.ValidateAsResourceServerAsync(ecClient, afterSwitch, validateLifetime: false,
            algorithm: SecurityAlgorithms.EcdsaSha256)).IsValid);
        await using var db = data.Open();
        Assert.Equal(["ES256", "RS256"], (await db.SigningKeys.Select(k => k.Algorithm).ToListAsync()).Order());
    }

    [Fact]
    public async Task An_unknown_algorithm_stops_the_AuthServer_at_start_naming_the_setting()
    {
        var data = await NewDatabaseAsync();

        var outcome = await ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = data.ConnectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            ["SIGNING_ALGORITHM"] = "HS256",
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("AuthServer cannot start: SIGNING_ALGORITHM must be RS256 (default) or ES256", outcome.Output);
        await using var db = data.Open();
        Assert.Empty(await db.SigningKeys.ToListAsync());
    }
}
