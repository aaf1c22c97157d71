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

public sealed class SecretsStayOutOfLogsTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task A_full_token_flow_logged_at_trace_level_holds_no_secret_and_no_token()
    {
        var client = fixture.Client;
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", "tokens:read"]);
        var id = agent.Id.ToString();
        var secret = credential.ClientSecret;

        var token = await client.GetAccessTokenAsync(id, secret);
        using (await client.RequestTokenAsync(id, secret, basic: false)) { }
        using (await client.RequestTokenAsync(id, secret[..^3] + "abc")) { }
        using (await client.RequestTokenAsync(id, secret, scope: "nope:nope")) { }
        using (await client.IntrospectAsync(id, secret, token)) { }
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect")
        {
            Content = new FormUrlEncodedContent([new("token", token)]),
        })
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using (await client.SendAsync(request)) { }
        }
        using (await client.RevokeAsync(id, secret, token)) { }
        using (await client.IntrospectAsync(id, secret, token)) { }

        var randomPart = secret[AgentIdp.Core.Secrets.ClientSecret.RandomPartStart..];
        var signature = token.Split('.')[2];
        var log = fixture.Factory.Logs.Text;
        Assert.True(fixture.Factory.Logs.Entries.Count > 20, "the flow was logged at all");
        Assert.Contains(fixture.Factory.Logs.Entries, e => e.Category.StartsWith("OpenIddict", StringComparison.Ordinal));
        Assert.DoesNotContain(randomPart, log);
        Assert.DoesNotContain(signature, log);
        Assert.DoesNotContain(token.Split('.')[1], log);

        // Nor does the audit log.
        await Task.Delay(500);
        await using var db = fixture.Data.Open();
        var details = string.Join('\n', await db.AuditEvents.Select(e => e.Details).ToListAsync());
        Assert.Contains(AuditActions.TokenIssued, string.Join(' ', await db.AuditEvents.Select(e => e.Action).ToListAsync()));
        Assert.DoesNotContain(randomPart, details);
        Assert.DoesNotContain(signature, details);
    }
}
