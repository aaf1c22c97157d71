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

public sealed class HealthTests
{
    [Fact]
    public async Task Liveness_and_readiness_report_each_check_and_readiness_fails_without_PostgreSQL()
    {
        var (server, data, factory) = await AuthServerFactory.OnOwnDatabaseAsync();
        await using var _ = factory;
        var connectionString = data.ConnectionString;
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
        await server.DropDatabaseAsync(connectionString);

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
