using System.Net.Http.Headers;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using AuthServer.Audit;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tests;

/// <summary>A flood of identical failed authentications costs a few audit rows, not one per request.</summary>
public sealed class AuthFailureFloodTests
{
    [Fact]
    public async Task Identical_failures_from_one_source_become_one_row_and_one_counted_row_per_window()
    {
        var (_, data, factory) = await AuthServerFactory.OnOwnDatabaseAsync();
        using (var client = factory.CreateClient())
        {
            for (var i = 0; i < 200; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect") { Content = new FormUrlEncodedContent([new("token", "x")]) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.jwt");
                using (await client.SendAsync(request)) { }
            }
            var (agent, credential) = await data.CreateAgentWithCredentialAsync();
            using (await client.RequestTokenAsync(agent.Id.ToString(), "wrong")) { }

            var first = await TestData.EventuallyAsync(async () =>
            {
                await using var db = data.Open();
                var rows = await db.AuditEvents.Where(e => e.Action == AuditActions.AuthFailed).ToListAsync();
                return rows.Count >= 2 ? rows : null;
            });
            await Task.Delay(AuditTrail.FlushInterval * 5);
            await using (var db = data.Open())
            {
                Assert.Equal(2, await db.AuditEvents.CountAsync(e => e.Action == AuditActions.AuthFailed)); // one per kind so far
            }
            Assert.Single(first, e => e.Details.Contains("invalid_bearer_token", StringComparison.Ordinal));
        }

        await factory.DisposeAsync(); // closes the open windows, as a shutdown does

        await using var after = data.Open();
        var bearer = (await after.AuditEvents.Where(e => e.Action == AuditActions.AuthFailed).ToListAsync())
            .Where(e => e.Details.Contains("invalid_bearer_token", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, bearer.Count);
        var counted = bearer.Select(e => JsonDocument.Parse(e.Details).RootElement).Single(d => d.TryGetProperty("repeated", out _));
        Assert.Equal(199, counted.GetProperty("repeated").GetInt32());
        Assert.Equal("introspection", counted.GetProperty("endpoint").GetString());
    }
}
