using AgentIdp.Core.Configuration;
using AgentIdp.Core.Health;
using AgentIdp.Core.SigningKeys;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace AuthServer.SigningKeys;

public static class SigningKeys
{
    /// <summary>Signing keys shared through PostgreSQL, encrypted under SIGNING_KEY_ENCRYPTION_KEY (or, while it changes, SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS).</summary>
    public static IServiceCollection AddSigningKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSigningKeyLifecycle(configuration);
        services.AddSingleton<SigningKeyRing>();
        services.AddHostedService(provider => provider.GetRequiredService<SigningKeyRing>());
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>>(provider => provider.GetRequiredService<SigningKeyRing>());
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ConfigureSigningCredentials>();
        services.AddHealthChecks().AddCheck<SigningKeysHealthCheck>("signingKeys", tags: [HealthEndpoints.ReadinessTag]);
        return services;
    }
}

/// <summary>Without a signing key the AuthServer cannot issue a token: not ready.</summary>
public sealed class SigningKeysHealthCheck(SigningKeyRing ring) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(ring.Current is { } keys
            ? HealthCheckResult.Healthy($"Signing with key {keys.Signing.Kid}.")
            : HealthCheckResult.Unhealthy("No signing key is loaded."));
}
