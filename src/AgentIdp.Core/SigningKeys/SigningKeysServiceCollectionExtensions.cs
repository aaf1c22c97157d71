using AgentIdp.Core.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentIdp.Core.SigningKeys;

public static class SigningKeysServiceCollectionExtensions
{
    /// <summary>The signing keys' settings (SIGNING_*), their encryption at rest and every change to them.</summary>
    public static IServiceCollection AddSigningKeyLifecycle(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SigningKeyOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SigningKeyProtector>();
        services.TryAddScoped<SigningKeyLifecycle>();
        return services;
    }
}
