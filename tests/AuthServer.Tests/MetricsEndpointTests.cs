using System.Net;
using AgentIdp.Testing;

namespace AuthServer.Tests;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Without_METRICS_PROMETHEUS_there_is_no_metrics_endpoint()
    {
        var (_, _, factory) = await AuthServerFactory.OnOwnDatabaseAsync();
        await using var _ = factory;
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task With_METRICS_PROMETHEUS_the_AuthServer_serves_its_metrics_in_Prometheus_text_format()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        await using var factory = new AuthServerFactory(data.ConnectionString, new Dictionary<string, string?> { ["METRICS_PROMETHEUS"] = "true" });
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        // No credentials, and nothing of the OAuth endpoints' guards in the way.
        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE tokenservice_token_issued_total counter", text);
        Assert.Contains($"client=\"{agent.Id}\"", text);
        Assert.Contains("agentidp_signing_key_age_seconds", text);
        Assert.Contains("agentidp_secret_verification_duration_seconds_bucket", text);
        Assert.Contains("http_server_request_duration_seconds", text);
    }

    [Fact]
    public async Task A_malformed_METRICS_PROMETHEUS_stops_the_start_naming_it()
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = "Host=127.0.0.1;Database=x",
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            ["METRICS_PROMETHEUS"] = "yes",
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("AuthServer cannot start: Failed to convert configuration value 'yes' at 'METRICS_PROMETHEUS'", outcome.Output);
    }
}
