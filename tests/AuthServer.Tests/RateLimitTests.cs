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

public sealed class RateLimitTests
{
    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_Retry_After_and_others_are_unaffected()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        await using var factory = new AuthServerFactory(data.ConnectionString,
            new Dictionary<string, string?> { ["TOKEN_RATE_LIMIT_PER_MINUTE"] = "2" });
        using var client = factory.CreateClient();
        var (busy, busyCredential) = await data.CreateAgentWithCredentialAsync();
        var (quiet, quietCredential) = await data.CreateAgentWithCredentialAsync();
        // Someone who knows the agent's id but not its secret cannot use up its allowance.
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await client.RequestTokenAsync(busy.Id.ToString(), busyCredential.ClientSecret[..^2] + "zz");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var first = await client.RequestTokenAsync(busy.Id.ToString(), busyCredential.ClientSecret);
        using var second = await client.RequestTokenAsync(busy.Id.ToString(), busyCredential.ClientSecret, basic: false);
        using var third = await client.RequestTokenAsync(busy.Id.ToString(), busyCredential.ClientSecret);
        using var other = await client.RequestTokenAsync(quiet.Id.ToString(), quietCredential.ClientSecret);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.True(third.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal("rate_limit_exceeded", (await third.JsonAsync()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}
