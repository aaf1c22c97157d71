using System.Reflection;
using AgentIdp.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentIdp.Core.Telemetry;

/// <summary>
/// OpenTelemetry for a service, configured by the standard <c>OTEL_*</c> variables:
/// <list type="bullet">
/// <item>traces: ASP.NET Core, PostgreSQL (Npgsql), HttpClient (Vault), and AgentIdP's own spans (<see cref="AgentIdpTracing"/>);</item>
/// <item>metrics: AgentIdP's (<see cref="AgentIdpMetrics"/>), ASP.NET Core's, Kestrel's, HttpClient's, Npgsql's and the runtime's;</item>
/// <item>logs: every log entry, with the trace and span it was written in, through the same filters as every other log provider (<see cref="Logging.TokenSafeLogging"/>).</item>
/// </list>
/// Nothing is collected unless something exports it: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (all three
/// signals), Prometheus at <c>GET /metrics</c> when METRICS_PROMETHEUS is true (metrics). Console logs carry
/// the trace and span ids either way.
/// </summary>
public static class AgentIdpTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>Requests not worth a trace: probes and scrapes, every few seconds from the platform.</summary>
    private static readonly string[] UntracedPaths = ["/health/live", "/health/ready", MetricsPath];

    /// <summary>The platform's meters worth exporting beside AgentIdP's own.</summary>
    private static readonly string[] PlatformMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting", "System.Net.Http", "System.Runtime",
    ];

    /// <param name="serviceName">The service's <c>service.name</c> unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names it otherwise.</param>
    public static WebApplicationBuilder AddAgentIdpTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().Bind(builder.Configuration).ValidateSettings().ValidateOnStart();
        services.AddAgentIdpMetrics();
        ConfigureConsoleLogs(builder);

        var openTelemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource
            .AddService(serviceName, serviceVersion: ServiceVersion())
            .AddEnvironmentVariableDetector()); // after the default name, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win

        // What each signal collects, once something exports it: these take effect only in a provider that an exporter brings.
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(AgentIdpTracing.SourceName)
            .AddAspNetCoreInstrumentation(aspNetCore =>
            {
                aspNetCore.Filter = context => !UntracedPaths.Contains(context.Request.Path.Value, StringComparer.OrdinalIgnoreCase);
                // The instrumentation redacts query values (key=Redacted) but keeps a query without '=' whole,
                // and any route can be sent ?client_secret=... or a bare secret: no query is recorded at all.
                aspNetCore.EnrichWithHttpRequest = static (activity, _) => activity.SetTag("url.query", null);
            })
            // Vault's URLs name agents and credentials, never secrets; headers, X-Vault-Token among them, are never recorded.
            .AddHttpClientInstrumentation()
            .AddNpgsql());
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics
            .AddMeter(AgentIdpMetrics.MeterName)
            .AddMeter(PlatformMeters)
            .AddNpgsqlInstrumentation());
        services.Configure<OpenTelemetryLoggerOptions>(logs =>
        {
            logs.IncludeFormattedMessage = true;
            logs.IncludeScopes = true;
        });

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            openTelemetry.UseOtlpExporter(); // OTEL_EXPORTER_OTLP_PROTOCOL, _HEADERS, _TIMEOUT and the per-signal variables apply
        }
        if (PrometheusEnabled(builder.Configuration))
        {
            openTelemetry.WithMetrics(metrics => metrics.AddPrometheusExporter());
        }
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> in Prometheus' text format when METRICS_PROMETHEUS is true, on the service's own
    /// port and without a token: keep it from outside callers at the network (a NetworkPolicy), as the
    /// health endpoints. Unset, the path is not mapped at all.
    /// </summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder endpoints)
    {
        if (PrometheusEnabled(endpoints.ServiceProvider.GetRequiredService<IConfiguration>()))
        {
            endpoints.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous().DisableHttpMetrics().ExcludeFromDescription();
        }
        return endpoints;
    }

    /// <summary>
    /// Console logs carry the trace and span ids of the request they were written for, so they can be found
    /// from a trace and the other way round, even with nothing exported. Outside Development they are JSON,
    /// one object per line, with those ids among the scopes; Logging__Console__FormatterName chooses otherwise.
    /// </summary>
    private static void ConfigureConsoleLogs(WebApplicationBuilder builder)
    {
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (builder.Environment.IsDevelopment() || !string.IsNullOrEmpty(builder.Configuration["Logging:Console:FormatterName"]))
        {
            return;
        }
        builder.Logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
    }

    private static bool PrometheusEnabled(IConfiguration configuration) =>
        bool.TryParse(configuration[TelemetryOptions.PrometheusVariable], out var enabled) && enabled;

    private static string? ServiceVersion() =>
        (Assembly.GetEntryAssembly() ?? typeof(AgentIdpTelemetry).Assembly).GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
}

public sealed class TelemetryOptions
{
    public const string PrometheusVariable = "METRICS_PROMETHEUS";

    /// <summary>Serve <c>GET /metrics</c> for Prometheus to scrape.</summary>
    [ConfigurationKeyName(PrometheusVariable)]
    public bool Prometheus { get; set; }
}
