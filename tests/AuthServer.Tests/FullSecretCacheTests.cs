using System.Globalization;
using System.Net;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests;

/// <summary>A cache that is full: each test has a server of its own with room for three credentials.</summary>
public sealed class FullSecretCacheTests : IAsyncLifetime
{
    private const int Capacity = 3;
    private TestData _data = null!;
    private AuthServerFactory _factory = null!;
    private HttpClient _client = null!;

    private VerifiedSecretCache Cache => _factory.Services.GetRequiredService<VerifiedSecretCache>();

    public async Task InitializeAsync()
    {
        _data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        _factory = new AuthServerFactory(_data.ConnectionString, new Dictionary<string, string?>
        {
            ["SECRET_CACHE_MAX_ENTRIES"] = Capacity.ToString(CultureInfo.InvariantCulture),
        });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private async Task<List<IssuedCredential>> FillAsync()
    {
        var cached = new List<IssuedCredential>();
        for (var i = 0; i < Capacity; i++)
        {
            cached.Add((await VerifiedSecretCacheTests.WarmAgentAsync(_data, _client, Cache)).Credential);
        }
        Assert.Equal(Capacity, Cache.Count);
        return cached;
    }

    [Fact]
    public async Task A_storm_of_wrong_secrets_does_not_evict_the_agents_that_are_cached()
    {
        var good = await FillAsync();
        var strangers = new List<(Agent Agent, IssuedCredential Credential)>();
        for (var i = 0; i < 3; i++)
        {
            strangers.Add(await _data.CreateAgentWithCredentialAsync());
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var (stranger, strangerCredential) = strangers[i % strangers.Count];
            var cached = good[i % good.Count].Credential;
            var (clientId, secret) = (i % 3) switch
            {
                0 => (stranger.Id, ClientSecret.Generate(strangerCredential.Credential.Id)), // a real credential, a wrong secret
                1 => (stranger.Id, ClientSecret.Generate(Guid.NewGuid())), // no such credential
                _ => (cached.AgentId, ClientSecret.Generate(cached.Id)), // a cached credential, its own agent, a wrong secret
            };
            using var response = await _client.RequestTokenAsync(clientId.ToString(), secret);
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        });

        Assert.All(good, credential => Assert.True(VerifiedSecretCacheTests.IsCached(Cache, credential)));
    }

    [Fact]
    public async Task A_full_cache_keeps_its_entries_and_leaves_a_newcomer_cold_but_authenticated()
    {
        var good = await FillAsync();
        var (newcomer, newcomerCredential) = await _data.CreateAgentWithCredentialAsync();

        using var response = await _client.RequestTokenAsync(newcomer.Id.ToString(), newcomerCredential.ClientSecret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(VerifiedSecretCacheTests.IsCached(Cache, newcomerCredential));
        Assert.All(good, credential => Assert.True(VerifiedSecretCacheTests.IsCached(Cache, credential)));
        Assert.Equal(Capacity, Cache.Count);
    }
}
