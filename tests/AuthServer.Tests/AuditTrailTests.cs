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

public sealed class AuditTrailTests(ForwardedHeadersFixture fixture) : IClassFixture<ForwardedHeadersFixture>
{
    [Fact]
    public async Task Issuing_a_token_is_audited_and_marks_the_credential_used()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var token = new JsonWebToken(await fixture.Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret));

        var issued = await TestData.EventuallyAsync(async () =>
        {
            await using var db = fixture.Data.Open();
            return await db.AuditEvents.SingleOrDefaultAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.TokenIssued);
        });

        Assert.Equal(AuditOutcome.Success, issued.Outcome);
        Assert.Equal(agent.Id.ToString(), issued.Actor);
        Assert.Equal(ForwardedHeadersFixture.CallerIp, issued.Ip?.ToString());
        using var details = JsonDocument.Parse(issued.Details);
        Assert.Equal(token.Id, details.RootElement.GetProperty("jti").GetString());
        Assert.Equal(credential.Credential.Id.ToString(), details.RootElement.GetProperty("credentialId").GetString());
        // Taken from what was signed, not from a parse of the token: the same values all the same.
        Assert.Equal(token.Audiences, details.RootElement.GetProperty("aud").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(token.GetClaim("scope").Value.Split(' '), details.RootElement.GetProperty("scope").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(token.ValidTo, details.RootElement.GetProperty("expiresAt").GetDateTime());
        var lastUsed = await TestData.EventuallyAsync(async () =>
        {
            await using var db = fixture.Data.Open();
            return await db.Credentials.Where(c => c.Id == credential.Credential.Id).Select(c => c.LastUsedAt).SingleAsync() is { } at
                ? (object)at : null;
        });
        Assert.InRange((DateTimeOffset)lastUsed, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task A_failed_authentication_is_audited_with_its_reason()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using (await fixture.Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret[..^1] + "x")) { }

        var failed = await TestData.EventuallyAsync(async () =>
        {
            await using var db = fixture.Data.Open();
            return (await db.AuditEvents.Where(e => e.Action == AuditActions.AuthFailed).ToListAsync())
                .SingleOrDefault(e => e.Details.Contains(agent.Id.ToString(), StringComparison.Ordinal));
        });

        Assert.Equal(AuditOutcome.Failure, failed.Outcome);
        // The client id is the caller's claim, not verified: recorded as claimed, never as who acted or whom it was about.
        Assert.Null(failed.Actor);
        Assert.Null(failed.AgentId);
        using var details = JsonDocument.Parse(failed.Details);
        Assert.Equal(agent.Id.ToString(), details.RootElement.GetProperty("claimedClientId").GetString());
        Assert.Equal("wrong_secret", details.RootElement.GetProperty("reason").GetString());
        Assert.Equal("token", details.RootElement.GetProperty("endpoint").GetString());
        Assert.Equal(ForwardedHeadersFixture.CallerIp, failed.Ip?.ToString());
    }

    [Fact]
    public async Task A_malformed_client_id_is_never_recorded_and_cannot_sink_the_other_events()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        // A NUL character PostgreSQL cannot store, and a caller that swapped its id and secret.
        using (var nul = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token") { Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]) })
        {
            nul.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String("evil%00:x"u8.ToArray()));
            using (await fixture.Client.SendAsync(nul)) { }
        }
        using (await fixture.Client.RequestTokenAsync(credential.ClientSecret, agent.Id.ToString())) { }
        await fixture.Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        var issued = await TestData.EventuallyAsync(async () =>
        {
            await using var db = fixture.Data.Open();
            return await db.AuditEvents.SingleOrDefaultAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.TokenIssued);
        });

        Assert.NotNull(issued);
        await using var db = fixture.Data.Open();
        var malformed = (await db.AuditEvents.Where(e => e.Action == AuditActions.AuthFailed).ToListAsync())
            .Where(e => e.Details.Contains("\"clientIdMalformed\": true", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(malformed); // identical failures within a minute share one row (AuthFailureFloodTests)
        Assert.All(malformed, e => Assert.Null(e.Actor));
        Assert.DoesNotContain((await db.AuditEvents.ToListAsync()).Select(e => e.Actor + " " + e.Details),
            text => text.Contains(credential.ClientSecret[AgentIdp.Core.Secrets.ClientSecret.RandomPartStart..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Introspection_and_revocation_are_audited()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", "tokens:read"]);
        var token = await fixture.Client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        using (await fixture.Client.IntrospectAsync(agent.Id.ToString(), credential.ClientSecret, token)) { }
        using (await fixture.Client.RevokeAsync(agent.Id.ToString(), credential.ClientSecret, token)) { }

        var actions = await TestData.EventuallyAsync(async () =>
        {
            await using var db = fixture.Data.Open();
            var found = await db.AuditEvents.Where(e => e.AgentId == agent.Id).Select(e => e.Action).ToListAsync();
            return found.Contains(AuditActions.TokenRevoked) && found.Contains(AuditActions.TokenIntrospected) ? found : null;
        });

        Assert.Contains(AuditActions.TokenIssued, actions);
    }
}
