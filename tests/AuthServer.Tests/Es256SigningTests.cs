using System.Net;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Testing;
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
    public async Task Switching_from_RS256_to_ES256_signs_with_a_new_key_at_once_and_keeps_RS256_tokens_valid()
    {
        var data = await NewDatabaseAsync();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        string rsaToken;
        await using (var rsa = new AuthServerFactory(data.ConnectionString))
        {
            using var client = rsa.CreateClient();
            rsaToken = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        }

        await using var ec = new AuthServerFactory(data.ConnectionString, Es256);
        using var ecClient = ec.CreateClient();
        var ecToken = await ecClient.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal("RS256", new JsonWebToken(rsaToken).Alg);
        Assert.Equal("ES256", new JsonWebToken(ecToken).Alg);
        Assert.True((await ValidateAsResourceServerAsync(ecClient, rsaToken, SecurityAlgorithms.RsaSha256)).IsValid);
        Assert.True((await ValidateAsResourceServerAsync(ecClient, ecToken, SecurityAlgorithms.EcdsaSha256)).IsValid);
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
