namespace AuthServer.Audit;

public static class AuditTrailServiceCollectionExtensions
{
    /// <summary>The queued audit writer (<see cref="AuditTrail"/>) every audited handler records to.</summary>
    public static IServiceCollection AddAuditTrail(this IServiceCollection services)
    {
        services.AddSingleton<AuditTrail>();
        services.AddHostedService(provider => provider.GetRequiredService<AuditTrail>());
        return services;
    }
}
