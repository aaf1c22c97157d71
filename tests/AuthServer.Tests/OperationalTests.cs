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

/// <summary>Behind a proxy that says who the caller is (ASPNETCORE_FORWARDEDHEADERS_ENABLED), as in Kubernetes.</summary>
public sealed class ForwardedHeadersFixture : AuthServerFixture
{
    public const string CallerIp = "203.0.113.7";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FORWARDEDHEADERS_ENABLED"] = "true" };

    public override HttpClient CreateClient()
    {
        var client = base.CreateClient();
        client.DefaultRequestHeaders.Add("X-Forwarded-For", CallerIp);
        return client;
    }
}

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
            return await db.AuditEvents.SingleOrDefaultAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.AuthFailed);
        });

        Assert.Equal(AuditOutcome.Failure, failed.Outcome);
        Assert.Equal(agent.Id.ToString(), failed.Actor);
        using var details = JsonDocument.Parse(failed.Details);
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
        Assert.True(malformed.Count >= 2);
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

public sealed class RevokedTokenPurgeTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task Revocations_of_expired_tokens_are_forgotten_and_live_ones_kept()
    {
        await using (var db = fixture.Data.Open())
        {
            db.RevokedTokens.Add(new AgentIdp.Core.Tokens.RevokedToken { TokenId = "expired", RevokedAt = DateTimeOffset.UtcNow.AddHours(-2), ExpiresAt = DateTimeOffset.UtcNow.AddHours(-1) });
            db.RevokedTokens.Add(new AgentIdp.Core.Tokens.RevokedToken { TokenId = "live", RevokedAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow.AddHours(1) });
            await db.SaveChangesAsync();
        }

        var purged = await fixture.Factory.Services.GetRequiredService<AuthServer.Tokens.Revocation.RevokedTokenPurge>().PurgeAsync(CancellationToken.None);

        Assert.Equal(1, purged);
        await using var check = fixture.Data.Open();
        Assert.Equal(["live"], await check.RevokedTokens.Select(r => r.TokenId).ToListAsync());
    }
}

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

public sealed class HealthTests
{
    [Fact]
    public async Task Liveness_and_readiness_report_each_check_and_readiness_fails_without_PostgreSQL()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync();
        var data = new TestData(connectionString);
        await using var factory = new AuthServerFactory(connectionString);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();

        using (var live = await client.GetAsync("/health/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal("healthy", (await live.JsonAsync()).GetProperty("status").GetString());
        }
        using (var ready = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var checks = (await ready.JsonAsync()).GetProperty("checks");
            Assert.Equal("healthy", checks.GetProperty("database").GetProperty("status").GetString());
            Assert.Equal("healthy", checks.GetProperty("signingKeys").GetProperty("status").GetString());
        }

        // PostgreSQL goes away.
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(server.ConnectionStringFor("postgres")))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        using (var ready = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = await ready.JsonAsync();
            Assert.Equal("unhealthy", body.GetProperty("status").GetString());
            Assert.Equal("unhealthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        }
        using (var live = await client.GetAsync("/health/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        // A token request now fails as a server error that tells nothing of its cause.
        using var token = await client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(HttpStatusCode.InternalServerError, token.StatusCode);
        var error = await token.Content.ReadAsStringAsync();
        Assert.Equal("server_error", (await token.JsonAsync()).GetProperty("error").GetString());
        Assert.DoesNotContain(database, error);
        Assert.DoesNotContain("Npgsql", error);
        Assert.DoesNotContain("   at ", error);
    }
}
