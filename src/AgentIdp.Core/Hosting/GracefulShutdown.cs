using System.ComponentModel.DataAnnotations;
using AgentIdp.Core.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentIdp.Core.Hosting;

/// <summary>
/// On SIGTERM a service stops taking connections, lets the requests in flight finish, then stops its
/// background work (the AuthServer writes its queued audit events then), all within
/// SHUTDOWN_TIMEOUT_SECONDS; what is still running then is cut off. The default, 25 seconds, ends within
/// Kubernetes' default grace period of 30 seconds, before the kubelet's SIGKILL.
/// </summary>
public static class GracefulShutdown
{
    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ShutdownOptions>().Bind(configuration).ValidateSettings().ValidateOnStart();
        // The host reads its options while it is built, before a bad setting can be reported by name (ValidateOnStart
        // does that at start): a setting that does not validate leaves the default here.
        services.AddOptions<HostOptions>().Configure(host =>
        {
            if (TryRead(configuration) is { } shutdown)
            {
                host.ShutdownTimeout = shutdown.Timeout;
            }
        });
        return services;
    }

    private static ShutdownOptions? TryRead(IConfiguration configuration)
    {
        var shutdown = new ShutdownOptions();
        try
        {
            configuration.Bind(shutdown);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        return Validator.TryValidateObject(shutdown, new ValidationContext(shutdown), null, validateAllProperties: true) ? shutdown : null;
    }
}

public sealed class ShutdownOptions
{
    [ConfigurationKeyName("SHUTDOWN_TIMEOUT_SECONDS")]
    [Range(1, 3600, ErrorMessage = "SHUTDOWN_TIMEOUT_SECONDS must be a number of seconds from 1 to 3600 (default 25): keep it below the platform's grace period.")]
    public int TimeoutSeconds { get; set; } = 25;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);
}
