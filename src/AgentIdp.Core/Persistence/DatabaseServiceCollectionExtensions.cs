using AgentIdp.Core.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentIdp.Core.Persistence;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>The shared PostgreSQL store, from DATABASE_URL.</summary>
    public static IServiceCollection AddAgentIdpDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        // One connection pool for EF Core and the raw commands of the hot paths.
        services.TryAddSingleton(provider =>
            new NpgsqlDataSourceBuilder(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString).Build());
        services.AddDbContextPool<AgentIdpDbContext>((provider, options) =>
            options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()).UseSnakeCaseNamingConvention());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    public static DbContextOptionsBuilder UseAgentIdpDatabase(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString).UseSnakeCaseNamingConvention();
}
