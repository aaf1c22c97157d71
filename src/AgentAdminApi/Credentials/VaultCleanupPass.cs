using AgentIdp.Core.Credentials;
using AgentIdp.Core.Vault;
using Microsoft.Extensions.Options;

namespace AgentAdminApi.Credentials;

/// <summary>
/// In Vault mode, once a minute: destroys the Vault secrets that a failed or interrupted credential write
/// or revocation left queued (see <see cref="VaultCleanupQueue"/>). Entries younger than the grace period may
/// belong to a request still running and are left alone. Replicas may run it at once: each entry is
/// taken by one of them.
/// </summary>
public sealed partial class VaultCleanupPass(IServiceScopeFactory scopes, IOptions<VaultOptions> options, TimeProvider time, ILogger<VaultCleanupPass> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>Longer than any request can spend between queuing a path and committing it.</summary>
    public TimeSpan Grace => TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(2).Ticks, options.Value.Timeout.Ticks * 4));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(Grace, stoppingToken);
            }
            catch (Exception e) when (e is VaultException or System.Data.Common.DbException)
            {
                LogPassFailed(e.Message);
            }
        }
    }

    public async Task<int> RunOnceAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var settled = await scope.ServiceProvider.GetRequiredService<VaultCleanupQueue>().RunAsync(olderThan, cancellationToken);
        if (settled > 0)
        {
            LogSettled(settled);
        }
        return settled;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The Vault cleanup pass settled {Count} queued paths.")]
    private partial void LogSettled(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Vault cleanup pass stopped early ({Reason}); the next pass goes on.")]
    private partial void LogPassFailed(string reason);
}

public static class VaultCleanupPassServiceCollectionExtensions
{
    public static IServiceCollection AddVaultCleanupPass(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.Get<VaultOptions>()?.Enabled == true)
        {
            services.AddSingleton<VaultCleanupPass>();
            services.AddHostedService(provider => provider.GetRequiredService<VaultCleanupPass>());
        }
        return services;
    }
}
