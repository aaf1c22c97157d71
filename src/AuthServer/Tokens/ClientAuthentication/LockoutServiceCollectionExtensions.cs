using AgentIdp.Core.Configuration;
using AgentIdp.Core.Lockout;

namespace AuthServer.Tokens.ClientAuthentication;

public static class LockoutServiceCollectionExtensions
{
    /// <summary>
    /// Failed client authentications counted per client id and per source in PostgreSQL (LOCKOUT_*), so that a
    /// lock holds on every replica; and the periodic <see cref="LockoutPurge"/>.
    /// </summary>
    public static IServiceCollection AddClientLockout(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LockoutOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.AddSingleton<FailedAuthentications>();
        services.AddSingleton<ClientLockout>();
        services.AddSingleton<LockoutPurge>();
        services.AddHostedService(provider => provider.GetRequiredService<LockoutPurge>());
        return services;
    }
}
