using System.Net;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests;

/// <summary>
/// bcrypt checks run one at a time with one waiting (SECRET_VERIFY_CONCURRENCY=1, SECRET_VERIFY_QUEUE=1),
/// and a check of an unknown client costs a decoy at BCRYPT_COST 15, so a few such requests fill both
/// for seconds: long enough to see what is shed and what is not.
/// </summary>
public sealed class LoadSheddingTests(LoadSheddingTests.Fixture fixture) : IClassFixture<LoadSheddingTests.Fixture>
{
    public sealed class Fixture : AuthServerFixture
    {
        protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
        {
            ["BCRYPT_COST"] = "15",
            ["SECRET_VERIFY_CONCURRENCY"] = "1",
            ["SECRET_VERIFY_QUEUE"] = "1",
        };
    }

    [Fact]
    public async Task Beyond_the_bcrypt_queue_requests_are_shed_with_503_and_Retry_After_while_cached_agents_get_tokens()
    {
        var client = fixture.Client;
        var cache = fixture.Factory.Services.GetRequiredService<VerifiedSecretCache>();
        var (agent, credential) = await VerifiedSecretCacheTests.WarmAgentAsync(fixture.Data, client, cache);
        var (introspector, introspectorCredential) = await fixture.Data.CreateAgentWithCredentialAsync(["tokens:read"]);
        var bearer = await client.GetAccessTokenAsync(introspector.Id.ToString(), introspectorCredential.ClientSecret);

        // Unknown clients: each costs a decoy check at cost 15. One runs, one waits, the rest are shed at once.
        var verifier = fixture.Factory.Services.GetRequiredService<BcryptVerifier>();
        var storm = new List<Task<HttpResponseMessage>>();
        async Task SaturateAsync()
        {
            // Each decoy holds the thread for seconds: once the queue is full, it stays full for the assertions that follow.
            for (var i = 0; i < 200 && !verifier.IsSaturated; i++)
            {
                storm.Add(client.RequestTokenAsync(Guid.NewGuid().ToString(), ClientSecret.Generate(Guid.NewGuid())));
                await Task.Delay(25);
            }
            Assert.True(verifier.IsSaturated);
        }
        await SaturateAsync();
        using (var shed = await client.RequestTokenAsync(Guid.NewGuid().ToString(), ClientSecret.Generate(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), shed.Headers.RetryAfter?.Delta);
            Assert.Contains("no-store", shed.Headers.CacheControl?.ToString());
            var error = await shed.JsonAsync();
            Assert.Equal("temporarily_unavailable", error.GetProperty("error").GetString());
        }

        // While bcrypt is saturated: the cached secret needs no check and is served, however it is sent...
        foreach (var basic in new[] { true, false })
        {
            using var cached = await client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, basic: basic);
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }
        // ...and so is a caller that authenticates with a bearer token, which needs no secret check at all...
        using (var introspection = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer) },
            Content = new FormUrlEncodedContent([new("token", bearer)]),
        }))
        {
            Assert.Equal(HttpStatusCode.OK, introspection.StatusCode);
            Assert.True((await introspection.JsonAsync()).GetProperty("active").GetBoolean());
        }
        // ...while a cold secret, sent either way, is shed at once.
        await SaturateAsync();
        foreach (var basic in new[] { true, false })
        {
            using var cold = await client.RequestTokenAsync(introspector.Id.ToString(), ClientSecret.Generate(Guid.NewGuid()), basic: basic);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, cold.StatusCode);
            Assert.Equal("temporarily_unavailable", (await cold.JsonAsync()).GetProperty("error").GetString());
            Assert.Equal(TimeSpan.FromSeconds(1), cold.Headers.RetryAfter?.Delta);
        }
        // ...but a wrong secret for that same credential is not decided by the cache: it needs the full check, and is shed.
        await SaturateAsync();
        using (var wrong = await client.RequestTokenAsync(agent.Id.ToString(), ClientSecret.Generate(credential.Credential.Id)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, wrong.StatusCode);
        }

        var answers = await Task.WhenAll(storm);
        var statuses = answers.Select(response => response.StatusCode).ToList();
        foreach (var response in answers)
        {
            response.Dispose();
        }
        // Each decoy was either checked (and refused) or shed; at least one of each.
        Assert.Contains(HttpStatusCode.Unauthorized, statuses);
        Assert.All(statuses, status => Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.ServiceUnavailable, status.ToString()));

        // Once the queue has drained, the same wrong secret gets its real answer.
        await VerifiedSecretCacheTests.AssertRefusedAsync(client, agent.Id, ClientSecret.Generate(credential.Credential.Id));
    }

    [Theory]
    [InlineData("SECRET_CACHE_TTL", "-1", "SECRET_CACHE_TTL must be a number of seconds from 0 (cache off) to 86400")]
    [InlineData("SECRET_CACHE_MAX_ENTRIES", "0", "SECRET_CACHE_MAX_ENTRIES must be from 1 to 10000000")]
    [InlineData("SECRET_VERIFY_CONCURRENCY", "0", "SECRET_VERIFY_CONCURRENCY must be from 1 to 1024")]
    [InlineData("SECRET_VERIFY_QUEUE", "lots", "Failed to convert configuration value 'lots' at 'SECRET_VERIFY_QUEUE'")]
    public async Task A_malformed_cache_or_shedding_setting_stops_the_start_naming_it(string name, string value, string message)
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = fixture.Data.ConnectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            [name] = value,
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains($"AuthServer cannot start: {message}", outcome.Output);
    }
}
