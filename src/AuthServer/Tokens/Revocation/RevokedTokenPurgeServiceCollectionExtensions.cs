namespace AuthServer.Tokens.Revocation;

public static class RevokedTokenPurgeServiceCollectionExtensions
{
    /// <summary>The hourly <see cref="RevokedTokenPurge"/> of revocations whose tokens have expired anyway.</summary>
    public static IServiceCollection AddRevokedTokenPurge(this IServiceCollection services)
    {
        services.AddSingleton<RevokedTokenPurge>();
        services.AddHostedService(provider => provider.GetRequiredService<RevokedTokenPurge>());
        return services;
    }
}
