using System.Net;
using System.Net.Http.Json;
using AgentIdp.Core.Secrets;
using Npgsql;

namespace AgentAdminApi.Tests;

public sealed class DocumentTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    [Fact]
    public async Task The_OpenAPI_document_lists_every_route_and_declares_the_bearer_scheme()
    {
        using var client = fixture.AdminApi.CreateClient();

        using var response = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.JsonAsync();
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Superset(new HashSet<string>
        {
            "/api/v1/agents", "/api/v1/agents/{agentId}", "/api/v1/agents/{agentId}/credentials",
            "/api/v1/agents/{agentId}/credentials/{credentialId}/rotate", "/api/v1/agents/{agentId}/credentials/{credentialId}",
            "/api/v1/audit", "/api/v1/audit/{eventId}",
        }, paths.ToHashSet());
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.Equal("bearer", document.GetProperty("security")[0].EnumerateObject().Single().Name);
        Assert.True(document.GetProperty("paths").GetProperty("/api/v1/agents").GetProperty("post").TryGetProperty("requestBody", out _));
    }

    [Fact]
    public async Task The_browsable_reference_is_served_in_development_only()
    {
        using var testing = await fixture.AdminApi.CreateClient().GetAsync("/scalar/v1");
        await using var development = new AdminApiFactory(fixture.Data.ConnectionString, fixture.AuthServer.Server.CreateHandler(), environment: "Development");
        using var page = await development.CreateClient().GetAsync("/scalar/v1");

        Assert.Equal(HttpStatusCode.Unauthorized, testing.StatusCode); // no such route: the fallback policy asks for a token
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("text/html", page.Content.Headers.ContentType?.ToString());
    }
}

public sealed class SecretsStayOutOfAdminLogsTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    [Fact]
    public async Task Managing_credentials_logs_no_secret_and_no_token()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        using var generated = await fixture.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        var credential = await generated.JsonAsync();
        using var rotated = await fixture.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{credential.GetProperty("credentialId").GetString()}/rotate", null);
        var secrets = new[] { credential.GetProperty("clientSecret").GetString()!, (await rotated.JsonAsync()).GetProperty("clientSecret").GetString()! };
        var token = fixture.Admin.DefaultRequestHeaders.Authorization!.Parameter!;

        var log = fixture.AdminApi.Logs.Text;

        Assert.NotEmpty(fixture.AdminApi.Logs.Entries);
        Assert.All(secrets, secret => Assert.DoesNotContain(secret[ClientSecret.RandomPartStart..], log));
        Assert.DoesNotContain(token.Split('.')[2], log);
        Assert.DoesNotContain(token.Split('.')[1], log);
    }
}

public sealed class FailureTests
{
    [Fact]
    public async Task Without_PostgreSQL_readiness_fails_and_requests_get_INTERNAL_ERROR_without_details()
    {
        var fixture = new AdminApiFixture();
        await fixture.InitializeAsync();
        try
        {
            using var client = fixture.AdminApi.CreateClient();
            using (var ready = await client.GetAsync("/health/ready"))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                Assert.Equal("healthy", (await ready.JsonAsync()).GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
            }
            // Warm the JWKS cache, then take PostgreSQL away.
            using (await fixture.Admin.GetAsync($"/api/v1/agents/{fixture.AdminAgent.Id}")) { }
            var database = new NpgsqlConnectionStringBuilder(fixture.Data.ConnectionString).Database!;
            NpgsqlConnection.ClearAllPools();
            var server = await PostgresServer.SharedAsync();
            await using (var admin = new NpgsqlConnection(server.ConnectionStringFor("postgres")))
            {
                await admin.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE {database} WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
            }

            using var notReady = await client.GetAsync("/health/ready");
            using var live = await client.GetAsync("/health/live");
            using var failed = await fixture.Admin.GetAsync($"/api/v1/agents/{fixture.AdminAgent.Id}");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            var problem = await failed.ProblemAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");
            var text = problem.GetRawText();
            Assert.DoesNotContain("Npgsql", text);
            Assert.DoesNotContain(database, text);
            Assert.DoesNotContain("SELECT", text);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_bad_setting_stops_the_start_with_a_message_naming_it()
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AgentAdminApiApplication).Assembly.Location,
            new Dictionary<string, string?> { ["DATABASE_URL"] = "Host=127.0.0.1;Database=x", ["ADMIN_RATE_LIMIT_PER_MINUTE"] = "-1" },
            TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("AgentAdminApi cannot start:", outcome.Output);
        Assert.Contains("ISSUER must be set", outcome.Output);
        Assert.Contains("ADMIN_RATE_LIMIT_PER_MINUTE must be", outcome.Output);
    }
}
