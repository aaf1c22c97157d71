using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Telemetry;
using AgentIdp.Testing.Vault;
using AuthServer;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentAdminApi.Tests;

/// <summary>
/// Both services, with Vault, exporting through OpenTelemetry to memory: what a collector would receive from a
/// token flow and an admin call.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly string[] Instruments =
    [
        "tokenservice.token_issued", "tokenservice.client.secret_validation", "tokenservice.introspection", "tokenservice.revocation",
        "agentidp.secret.verification.duration", "agentidp.vault.requests", "agentidp.rate_limit.rejections", "agentidp.audit.events",
        "agentidp.signing_key.age",
    ];

    [Fact]
    public async Task A_token_flow_and_an_admin_call_are_traced_and_counted_and_nothing_exported_holds_a_secret_or_a_token()
    {
        await using var vault = await VaultTestServer.StartAsync();
        var vaultToken = vault.CreateToken(VaultTestServer.AgentIdpPolicy(), TimeSpan.FromHours(1));
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var settings = new Dictionary<string, string?>
        {
            ["VAULT_ADDR"] = vault.Address.ToString(),
            ["VAULT_TOKEN"] = vaultToken,
            ["TOKEN_RATE_LIMIT_PER_MINUTE"] = "3",
        };
        var authTelemetry = new TelemetryCapture();
        var adminTelemetry = new TelemetryCapture();
        await using var authServerFactory = new AuthServerFactory(data.ConnectionString, settings);
        await using var authServer = authServerFactory.WithWebHostBuilder(authTelemetry.Configure);
        using var oauth = authServer.CreateClient();
        await using var adminApiFactory = new AdminApiFactory(data.ConnectionString, authServer.Server.CreateHandler(), settings);
        await using var adminApi = adminApiFactory.WithWebHostBuilder(adminTelemetry.Configure);
        using var admin = adminApi.CreateClient();
        authTelemetry.Watch(authServer.Services);
        adminTelemetry.Watch(adminApi.Services);

        // The admin (a bcrypt credential) gets a token, registers an agent and gives it a credential, kept in Vault.
        var (adminAgent, adminCredential) = await data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        var adminToken = await oauth.GetAccessTokenAsync(adminAgent.Id.ToString(), adminCredential.ClientSecret);
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var registered = await admin.PostAsJsonAsync("/api/v1/agents", AdminApiRequests.NewAgent());
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var agentId = (await registered.JsonAsync()).GetProperty("agentId").GetString()!;
        using var generated = await admin.PostAsJsonAsync($"/api/v1/agents/{agentId}/credentials", new { });
        Assert.Equal(HttpStatusCode.Created, generated.StatusCode);
        var generatedBody = await generated.JsonAsync();
        Assert.Equal("vault", generatedBody.GetProperty("storage").GetString());
        var vaultSecret = generatedBody.GetProperty("clientSecret").GetString()!;
        var credentialId = Guid.Parse(generatedBody.GetProperty("credentialId").GetString()!);

        // The agent's first token (client_secret_post) checks its secret in Vault, in a trace of a known id...
        var traceId = ActivityTraceId.CreateRandom();
        string agentToken;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", agentId), new("client_secret", vaultSecret)]),
        })
        {
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            using var first = await oauth.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            agentToken = (await first.JsonAsync()).GetProperty("access_token").GetString()!;
        }
        // ...its second (client_secret_basic) from the verified-secret cache; another agent's with bcrypt.
        var secondToken = await oauth.GetAccessTokenAsync(agentId, vaultSecret);
        var (bcryptAgent, bcryptCredential) = await data.CreateAgentWithCredentialAsync();
        var bcryptToken = await oauth.GetAccessTokenAsync(bcryptAgent.Id.ToString(), bcryptCredential.ClientSecret);
        // Introspection by the admin, revocation by the agent itself.
        using (var introspection = await oauth.IntrospectAsync(adminAgent.Id.ToString(), adminCredential.ClientSecret, agentToken))
        {
            Assert.True((await introspection.JsonAsync()).GetProperty("active").GetBoolean());
        }
        using (var revocation = await oauth.RevokeAsync(agentId, vaultSecret, agentToken))
        {
            Assert.Equal(HttpStatusCode.OK, revocation.StatusCode);
        }
        // Failures: a wrong secret for the Vault credential, a client that does not exist.
        var wrongSecret = ClientSecret.Generate(credentialId);
        var claimedClient = Guid.NewGuid().ToString();
        var unknownSecret = ClientSecret.Generate(Guid.NewGuid());
        using (var wrong = await oauth.RequestTokenAsync(agentId, wrongSecret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using (var unknown = await oauth.RequestTokenAsync(claimedClient, unknownSecret, basic: false))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }
        // The bcrypt agent past TOKEN_RATE_LIMIT_PER_MINUTE=3.
        for (var i = 0; i < 3; i++)
        {
            using var limited = await oauth.RequestTokenAsync(bcryptAgent.Id.ToString(), bcryptCredential.ClientSecret);
            Assert.Equal(i < 2 ? HttpStatusCode.OK : HttpStatusCode.TooManyRequests, limited.StatusCode);
        }
        // Secrets where no client should put them: query strings, with and without a name.
        using (await oauth.PostAsync($"/api/v1/token?client_secret={Uri.EscapeDataString(vaultSecret)}",
            new FormUrlEncodedContent([new("grant_type", "client_credentials")]))) { }
        using (await oauth.GetAsync($"/api/v1/nothing-here?{vaultSecret}")) { }
        using (await admin.GetAsync($"/api/v1/agents/{agentId}?client_secret={Uri.EscapeDataString(vaultSecret)}&{agentToken}")) { }

        // The audit writer has written what the token path queued.
        var started = Stopwatch.GetTimestamp();
        while (!authTelemetry.Points("agentidp.audit.events").Any(tags => Equals(tags.GetValueOrDefault("state"), "written")))
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30), "no audit event was written");
            await Task.Delay(100);
        }

        // One trace: the request's server span, AgentIdP's secret verification under it, and under that the
        // PostgreSQL query and the Vault read.
        authTelemetry.Flush();
        var trace = authTelemetry.Spans.Where(span => span.TraceId == traceId).Distinct().ToList();
        // (The Vault test server is an ASP.NET Core host in this process: its own server span is in the trace too.)
        var server = Assert.Single(trace, span => span.Kind == ActivityKind.Server && Equals(span.GetTagItem("url.path"), "/api/v1/token"));
        Assert.Equal(200, server.GetTagItem("http.response.status_code"));
        var verification = Assert.Single(trace, span => span.Source.Name == AgentIdpTracing.SourceName);
        Assert.Equal(AgentIdpTracing.SecretVerification, verification.OperationName);
        Assert.Equal(SecretStores.Vault, verification.GetTagItem(AgentIdpTracing.Attributes.SecretStore));
        Assert.Equal(SecretOutcomes.Match, verification.GetTagItem(AgentIdpTracing.Attributes.SecretOutcome));
        Assert.Equal("success", verification.GetTagItem(AgentIdpTracing.Attributes.AuthenticationResult));
        Assert.True(IsUnder(verification, server, trace), "the verification span is not under the request's");
        var vaultCall = Assert.Single(trace, span => span.Kind == ActivityKind.Client && $"{span.GetTagItem("url.full")}".StartsWith(vault.Address.ToString(), StringComparison.Ordinal));
        Assert.Contains($"/v1/secret/data/agentidp/agents/{agentId}/credentials/{credentialId}", $"{vaultCall.GetTagItem("url.full")}");
        Assert.True(IsUnder(vaultCall, verification, trace), "the Vault call is not under the verification span");
        var query = Assert.Single(trace, span => span.Source.Name == "Npgsql" && IsUnder(span, verification, trace));
        Assert.Equal("postgresql", query.GetTagItem("db.system") ?? query.GetTagItem("db.system.name"));
        // Every log entry written while that request was served names its trace.
        Assert.Contains(authTelemetry.Logs, log => log.TraceId == traceId);
        // The admin call has its trace too: its server span, and its write to Vault.
        adminTelemetry.Flush();
        var generation = Assert.Single(adminTelemetry.Spans.Distinct(), span => span.Kind == ActivityKind.Server &&
            Equals(span.GetTagItem("url.path"), $"/api/v1/agents/{agentId}/credentials") && Equals(span.GetTagItem("http.request.method"), "POST"));
        Assert.Contains(adminTelemetry.Spans, span => span.Kind == ActivityKind.Client && span.TraceId == generation.TraceId &&
            Equals(span.GetTagItem("http.request.method"), "POST") && $"{span.GetTagItem("url.full")}".StartsWith(vault.Address.ToString(), StringComparison.Ordinal));
        // No span records a query string, whatever it held.
        Assert.DoesNotContain(authTelemetry.Spans.Concat(adminTelemetry.Spans), span => span.GetTagItem("url.query") is not null);

        // Every instrument has measured, with the tags it documents.
        var metrics = authTelemetry.Metrics.Select(m => m.Name).ToHashSet();
        Assert.All(Instruments, name => Assert.Contains(name, metrics));
        var issued = authTelemetry.Points("tokenservice.token_issued");
        Assert.Contains(issued, tags => Has(tags, ("client", agentId), ("grant_type", "client_credentials")) && !tags.ContainsKey("error"));
        Assert.Contains(issued, tags => Has(tags, ("error", "invalid_client")) && !tags.ContainsKey("client"));
        Assert.Contains(issued, tags => Has(tags, ("client", bcryptAgent.Id.ToString()), ("error", "rate_limit_exceeded")));
        var validations = authTelemetry.Points("tokenservice.client.secret_validation");
        Assert.Contains(validations, tags => Has(tags, ("client", agentId), ("auth_method", "client_secret_post")) && !tags.ContainsKey("error"));
        Assert.Contains(validations, tags => Has(tags, ("client", agentId), ("auth_method", "client_secret_basic")) && !tags.ContainsKey("error"));
        Assert.Contains(validations, tags => Has(tags, ("error", "wrong_secret"), ("auth_method", "client_secret_basic")) && !tags.ContainsKey("client"));
        Assert.Contains(validations, tags => Has(tags, ("error", "unknown_credential"), ("auth_method", "client_secret_post")) && !tags.ContainsKey("client"));
        Assert.Contains(authTelemetry.Points("tokenservice.introspection"), tags => Has(tags, ("caller", adminAgent.Id.ToString()), ("active", true)));
        Assert.Contains(authTelemetry.Points("tokenservice.revocation"), tags => Has(tags, ("client", agentId)) && !tags.ContainsKey("error"));
        var verifications = authTelemetry.Points("agentidp.secret.verification.duration");
        foreach (var (store, outcome) in new[]
        {
            (SecretStores.Vault, SecretOutcomes.Match), (SecretStores.Cache, SecretOutcomes.Match), (SecretStores.Bcrypt, SecretOutcomes.Match),
            (SecretStores.Vault, SecretOutcomes.Mismatch), (SecretStores.Bcrypt, SecretOutcomes.NoCredential),
        })
        {
            Assert.Contains(verifications, tags => Has(tags, ("store", store), ("outcome", outcome)));
        }
        var vaultRequests = authTelemetry.Points("agentidp.vault.requests");
        Assert.Contains(vaultRequests, tags => Has(tags, ("operation", VaultOperations.Read), ("result", VaultResults.Success)));
        Assert.Contains(vaultRequests, tags => Has(tags, ("operation", VaultOperations.Write), ("result", VaultResults.Success)));
        Assert.Contains(vaultRequests, tags => Has(tags, ("operation", VaultOperations.TokenLookup), ("result", VaultResults.Success)));
        Assert.Contains(authTelemetry.Points("agentidp.rate_limit.rejections"), tags => Has(tags, ("limiter", "token")));
        Assert.Contains(authTelemetry.Points("agentidp.audit.events"), tags => Has(tags, ("state", "queued")));
        Assert.Contains(authTelemetry.Points("agentidp.signing_key.age"), tags => Has(tags, ("algorithm", "RS256")));
        // The id a failed request claimed is no tag anywhere: random ids must not make series.
        Assert.DoesNotContain(authTelemetry.Metrics.SelectMany(m => m.MetricPoints), point => TagValues(point.Tags).Contains(claimedClient));

        // Nothing exported holds a secret, a token or a Vault token: spans, metrics, logs, of either service.
        var exported = authTelemetry.Text() + adminTelemetry.Text() + authServerFactory.Logs.Text + adminApiFactory.Logs.Text;
        Assert.Contains(agentId, exported); // the scan sees what the services exported
        foreach (var secret in new[] { adminCredential.ClientSecret, vaultSecret, bcryptCredential.ClientSecret, wrongSecret, unknownSecret })
        {
            Assert.DoesNotContain(secret[ClientSecret.RandomPartStart..], exported);
        }
        foreach (var token in new[] { adminToken, agentToken, secondToken, bcryptToken })
        {
            Assert.DoesNotContain(token.Split('.')[1], exported);
            Assert.DoesNotContain(token.Split('.')[2], exported);
        }
        Assert.DoesNotContain(vaultToken, exported);
        Assert.DoesNotContain(vault.RootToken, exported);
    }

    [Fact]
    public async Task Requests_shed_for_a_saturated_bcrypt_are_counted()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var telemetry = new TelemetryCapture();
        await using var factory = new AuthServerFactory(data.ConnectionString, new Dictionary<string, string?>
        {
            ["BCRYPT_COST"] = "12", // the cost of a decoy check: a quarter of a second or so
            ["SECRET_VERIFY_CONCURRENCY"] = "1",
            ["SECRET_VERIFY_QUEUE"] = "1",
        });
        await using var authServer = factory.WithWebHostBuilder(telemetry.Configure);
        using var client = authServer.CreateClient();
        telemetry.Watch(authServer.Services);
        var verifier = authServer.Services.GetRequiredService<BcryptVerifier>();

        var storm = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 200 && !verifier.IsSaturated; i++)
        {
            storm.Add(client.RequestTokenAsync(Guid.NewGuid().ToString(), ClientSecret.Generate(Guid.NewGuid())));
            await Task.Delay(10);
        }
        using (var shed = await client.RequestTokenAsync(Guid.NewGuid().ToString(), ClientSecret.Generate(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
        }
        foreach (var response in await Task.WhenAll(storm))
        {
            response.Dispose();
        }

        Assert.Contains(telemetry.Points("agentidp.shedding.rejections"), tags => Has(tags, ("stage", "guard")));
    }

    private static bool IsUnder(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        for (var parent = span.ParentSpanId; parent != default;)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
            parent = trace.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? default;
        }
        return false;
    }

    private static bool Has(IReadOnlyDictionary<string, object?> tags, params (string Key, object Value)[] expected) =>
        expected.All(e => tags.TryGetValue(e.Key, out var value) && Equals(value, e.Value));

    private static List<object?> TagValues(OpenTelemetry.ReadOnlyTagCollection tags)
    {
        var values = new List<object?>();
        foreach (var tag in tags)
        {
            values.Add(tag.Value);
        }
        return values;
    }
}
