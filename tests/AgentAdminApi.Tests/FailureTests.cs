using System.Net;
using System.Net.Http.Json;
using AgentIdp.Core.Secrets;
using Npgsql;

namespace AgentAdminApi.Tests;

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

    [Fact]
    public async Task An_ADMIN_AUDIENCE_equal_to_AUDIENCE_stops_the_start()
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AgentAdminApiApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = "Host=127.0.0.1;Database=x",
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["AUDIENCE"] = "agentidp-admin",
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("AgentAdminApi cannot start: ADMIN_AUDIENCE must differ from AUDIENCE", outcome.Output);
    }
}
