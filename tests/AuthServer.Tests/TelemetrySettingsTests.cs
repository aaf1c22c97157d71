using AgentIdp.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AuthServer.Tests;

/// <summary>OpenTelemetry as the standard OTEL_* variables set it up.</summary>
public sealed class TelemetrySettingsTests
{
    [Fact]
    public async Task Without_an_OTLP_endpoint_or_Prometheus_nothing_is_collected()
    {
        var (_, _, factory) = await AuthServerFactory.OnOwnDatabaseAsync();
        await using var _ = factory;
        using var client = factory.CreateClient();

        Assert.Null(factory.Services.GetService<TracerProvider>());
        Assert.Null(factory.Services.GetService<MeterProvider>());
        Assert.Null(factory.Services.GetService<LoggerProvider>());
    }

    [Fact]
    public async Task With_an_OTLP_endpoint_every_signal_is_exported_as_the_service_named_by_default_or_by_OTEL_SERVICE_NAME()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var otlp = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" }; // nobody listens: exports fail quietly
        await using (var factory = new AuthServerFactory(data.ConnectionString, otlp))
        {
            using var client = factory.CreateClient();

            var resource = factory.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
            Assert.NotNull(factory.Services.GetService<MeterProvider>());
            Assert.NotNull(factory.Services.GetService<LoggerProvider>());
            Assert.Equal("agentidp-authserver", resource["service.name"]);
            Assert.True(resource.ContainsKey("service.instance.id"));
        }

        await using (var factory = new AuthServerFactory(data.ConnectionString, new Dictionary<string, string?>(otlp)
        {
            ["OTEL_SERVICE_NAME"] = "authserver-eu",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=staging",
        }))
        {
            using var client = factory.CreateClient();

            var resource = factory.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
            Assert.Equal("authserver-eu", resource["service.name"]);
            Assert.Equal("staging", resource["deployment.environment.name"]);
        }
    }
}
