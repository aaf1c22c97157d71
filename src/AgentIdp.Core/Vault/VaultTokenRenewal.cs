using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentIdp.Core.Vault;

/// <summary>Keeps the Vault token alive in the background: renewal at two thirds of its TTL, a new login when renewal is not possible.</summary>
public sealed partial class VaultTokenRenewal(VaultTokenSource tokens, TimeProvider time, ILogger<VaultTokenRenewal> logger) : BackgroundService
{
    /// <summary>How soon to try again after a failure, and how often to look at a token that never expires (its file may change).</summary>
    public static readonly TimeSpan Retry = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Idle = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await tokens.RenewAsync(stoppingToken) ?? Idle;
            }
            catch (Exception e) when (e is VaultException or IOException or UnauthorizedAccessException)
            {
                LogRenewalFailed(e.Message);
                wait = Retry;
            }
            try
            {
                await Task.Delay(wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keeping the Vault token alive failed ({Reason}); trying again shortly.")]
    private partial void LogRenewalFailed(string reason);
}
