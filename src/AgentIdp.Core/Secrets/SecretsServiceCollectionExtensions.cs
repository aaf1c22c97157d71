using AgentIdp.Core.Configuration;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Telemetry;
using AgentIdp.Core.Vault;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>Client secrets: generation, bcrypt hashing (BCRYPT_COST), Vault KV v2 when VAULT_ADDR is set, verification.</summary>
    public static IServiceCollection AddAgentSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecretHashingOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddOptions<SecretCacheOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddOptions<SecretVerificationOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddAgentIdpMetrics();
        services.TryAddSingleton<SecretHasher>();
        services.TryAddScoped<CredentialSecrets>();
        services.TryAddSingleton(provider =>
            new CredentialLookup.DataSource(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString));
        services.TryAddSingleton<CredentialLookup>();
        services.TryAddSingleton<VerifiedSecretCache>();
        services.TryAddSingleton<BcryptVerifier>();
        services.AddVault(configuration);
        var vaultEnabled = services.Any(service => service.ServiceType == typeof(VaultSecretStore));
        services.TryAddSingleton(provider => new AgentSecretValidator(
            provider.GetRequiredService<CredentialLookup>(),
            provider.GetRequiredService<BcryptVerifier>(),
            provider.GetRequiredService<VerifiedSecretCache>(),
            provider.GetRequiredService<TimeProvider>(),
            // Resolved per cold Vault check: a typed HttpClient is not to be held for the life of the process.
            vaultEnabled ? provider.GetRequiredService<VaultSecretStore> : null,
            provider.GetRequiredService<AgentIdpMetrics>()));
        return services;
    }
}
