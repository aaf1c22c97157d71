using System.Net;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace AuthServer.Tests;

public sealed class TokenExpiryTests
{
    [Fact]
    public async Task An_expired_token_is_inactive()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new AuthServerFactory(data.ConnectionString, time: time);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync(["invoices:read", "tokens:read"]);
        var token = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        time.Advance(TimeSpan.FromSeconds(3601));
        using var response = await client.IntrospectAsync(agent.Id.ToString(), credential.ClientSecret, token);

        Assert.False((await response.JsonAsync()).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task ACCESS_TOKEN_LIFETIME_sets_the_lifetime()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        await using var factory = new AuthServerFactory(data.ConnectionString,
            new Dictionary<string, string?> { ["ACCESS_TOKEN_LIFETIME"] = "300", ["AUDIENCE"] = "payments-api" });
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();

        using var response = await client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        var body = await response.JsonAsync();
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 298, 300);
        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal(300, (token.ValidTo - token.IssuedAt).TotalSeconds);
        Assert.Equal(["payments-api"], token.Audiences);
    }
}
