using AgentIdp.Core.Configuration;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Vault;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Persistence;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>The shared PostgreSQL store, from DATABASE_URL.</summary>
    public static IServiceCollection AddAgentIdpDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddDbContextPool<AgentIdpDbContext>((provider, options) =>
            options.UseAgentIdpDatabase(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString));
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    public static DbContextOptionsBuilder UseAgentIdpDatabase(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString).UseSnakeCaseNamingConvention();

    /// <summary>Client secrets: generation, bcrypt hashing (BCRYPT_COST), Vault KV v2 when VAULT_ADDR is set, verification.</summary>
    public static IServiceCollection AddAgentSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecretHashingOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecretHasher>();
        services.TryAddScoped<CredentialSecrets>();
        services.TryAddScoped<AgentSecretValidator>();
        services.AddVault(configuration);
        return services;
    }
}
