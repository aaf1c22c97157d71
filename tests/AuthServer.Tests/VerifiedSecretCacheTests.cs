using System.Net;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests;

/// <summary>The verified-secret cache, through the token endpoint: fast for a secret that passed, never a way around the row.</summary>
public sealed class VerifiedSecretCacheTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private HttpClient Client => fixture.Client;
    private VerifiedSecretCache Cache => fixture.Factory.Services.GetRequiredService<VerifiedSecretCache>();

    private Task<(Agent Agent, IssuedCredential Credential)> WarmAgentAsync() => WarmAgentAsync(fixture.Data, Client, Cache);

    private bool IsCached(IssuedCredential credential) => IsCached(Cache, credential);

    private Task AssertRefusedAsync(Guid agentId, string secret) => AssertRefusedAsync(Client, agentId, secret);

    internal static async Task<(Agent Agent, IssuedCredential Credential)> WarmAgentAsync(TestData data, HttpClient client, VerifiedSecretCache cache)
    {
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        using var first = await client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(IsCached(cache, credential), "a secret that passed is cached");
        return (agent, credential);
    }

    internal static bool IsCached(VerifiedSecretCache cache, IssuedCredential credential) =>
        cache.Matches(credential.Credential.Id, new SecretVersions(1, null), credential.ClientSecret);

    internal static async Task AssertRefusedAsync(HttpClient client, Guid agentId, string secret)
    {
        using var response = await client.RequestTokenAsync(agentId.ToString(), secret);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_revoked_credential_is_refused_on_the_next_request_although_its_secret_is_cached()
    {
        var (agent, credential) = await WarmAgentAsync();
        await using (var db = fixture.Data.Open())
        {
            await db.Credentials.Where(c => c.Id == credential.Credential.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CredentialStatus.Revoked).SetProperty(c => c.RevokedAt, DateTimeOffset.UtcNow));
        }

        await AssertRefusedAsync(agent.Id, credential.ClientSecret);
    }

    [Fact]
    public async Task An_expired_credential_is_refused_on_the_next_request_although_its_secret_is_cached()
    {
        var (agent, credential) = await WarmAgentAsync();
        await using (var db = fixture.Data.Open())
        {
            await db.Credentials.Where(c => c.Id == credential.Credential.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1)));
        }

        await AssertRefusedAsync(agent.Id, credential.ClientSecret);
    }

    [Theory]
    [InlineData(AgentStatus.Suspended)]
    [InlineData(AgentStatus.Decommissioned)]
    public async Task A_credential_of_an_agent_no_longer_active_is_refused_on_the_next_request(AgentStatus status)
    {
        var (agent, credential) = await WarmAgentAsync();
        await using (var db = fixture.Data.Open())
        {
            await db.Agents.Where(a => a.Id == agent.Id).ExecuteUpdateAsync(s => s
                .SetProperty(a => a.Status, status).SetProperty(a => a.SecurityStamp, a => a.SecurityStamp + 1));
        }

        await AssertRefusedAsync(agent.Id, credential.ClientSecret);
    }

    [Fact]
    public async Task A_rotated_credential_refuses_its_old_secret_on_the_next_request_and_takes_the_new_one()
    {
        var (agent, credential) = await WarmAgentAsync();
        string rotated;
        await using (var db = fixture.Data.Open())
        {
            var row = await db.Credentials.SingleAsync(c => c.Id == credential.Credential.Id);
            rotated = TestData.Rotate(row);
            await db.SaveChangesAsync();
        }

        await AssertRefusedAsync(agent.Id, credential.ClientSecret);
        using var response = await Client.RequestTokenAsync(agent.Id.ToString(), rotated);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Cache.Matches(credential.Credential.Id, new SecretVersions(2, null), rotated));
    }

    [Fact]
    public async Task A_wrong_secret_is_never_accepted_from_the_cache_and_never_enters_it()
    {
        var (agent, credential) = await WarmAgentAsync();
        // Same credential id, another random part: what a guesser who knows the id would send.
        var wrong = ClientSecret.Generate(credential.Credential.Id);
        var nearMiss = credential.ClientSecret[..^1] + (credential.ClientSecret[^1] == 'A' ? 'B' : 'A');

        await AssertRefusedAsync(agent.Id, wrong);
        await AssertRefusedAsync(agent.Id, nearMiss);

        Assert.False(Cache.Matches(credential.Credential.Id, new SecretVersions(1, null), wrong));
        Assert.False(Cache.Matches(credential.Credential.Id, new SecretVersions(1, null), nearMiss));
        Assert.True(IsCached(credential), "a wrong secret does not remove the right one");
        using var right = await Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }
}
