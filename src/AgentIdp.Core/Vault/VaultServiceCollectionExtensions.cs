using System.Net;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Health;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace AgentIdp.Core.Vault;

public static class VaultServiceCollectionExtensions
{
    /// <summary>
    /// Vault mode, when VAULT_ADDR is set: the KV v2 and auth clients with their resilience pipelines, the
    /// token source and its renewal, the secret store and a readiness check that reports Vault's state.
    /// Without VAULT_ADDR, nothing is registered and secrets are bcrypt hashes.
    /// </summary>
    public static IServiceCollection AddVault(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<VaultOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        var options = new VaultOptions();
        configuration.Bind(options);
        if (!options.Enabled)
        {
            return services;
        }

        services.AddAgentIdpMetrics();
        services.AddTransient<VaultRequestHeaders>();
        services.AddTransient<VaultTokenHandler>();
        services.AddSingleton<VaultTokenSource>();
        services.AddHostedService<VaultTokenRenewal>();
        services.AddHttpClient<VaultAuthClient>(ConfigureClient)
            .AddHttpMessageHandler<VaultRequestHeaders>()
            .AddResilienceHandler("vault-auth", ConfigureResilience);
        services.AddHttpClient<VaultKvClient>(ConfigureClient)
            .AddHttpMessageHandler<VaultRequestHeaders>()
            .AddHttpMessageHandler<VaultTokenHandler>()
            .AddResilienceHandler("vault-kv", ConfigureResilience);
        services.AddTransient<VaultSecretStore>();
        services.AddScoped<AgentIdp.Core.Credentials.VaultCleanupQueue>();
        services.AddHealthChecks().AddCheck<VaultHealthCheck>("vault", tags: [HealthEndpoints.ReadinessTag]);
        return services;
    }

    private static void ConfigureClient(IServiceProvider provider, HttpClient client)
    {
        var options = provider.GetRequiredService<IOptions<VaultOptions>>().Value;
        client.BaseAddress = new Uri(options.Address!.TrimEnd('/') + "/");
        client.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline's timeouts bound each call
    }

    /// <summary>
    /// A whole call, retries included, ends within VAULT_TIMEOUT. Only what the Vault reference calls
    /// retryable is retried (412, 429, 500, 502, 503, no connection, a slow attempt), twice at most, with
    /// jittered exponential backoff; a circuit breaker stops calling a Vault that keeps failing and lets a
    /// probe through every few seconds, so service resumes by itself when Vault is back.
    /// </summary>
    private static void ConfigureResilience(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<VaultOptions>>().Value;
        var retryable = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(response => response.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.TooManyRequests
                or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable);
        pipeline
            .AddTimeout(options.Timeout)
            .AddRetry(new HttpRetryStrategyOptions
            {
                ShouldHandle = retryable,
                MaxRetryAttempts = 2,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(100),
            })
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                ShouldHandle = retryable,
                FailureRatio = 0.5,
                MinimumThroughput = 6,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(3),
            })
            .AddTimeout(options.Timeout / 2);
    }
}
