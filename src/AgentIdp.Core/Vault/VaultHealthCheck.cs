using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentIdp.Core.Vault;

/// <summary>
/// Vault's state, reported as <c>degraded</c> when it is sealed or away: bcrypt-backed credentials keep
/// working without it, so its loss must not take a replica out of service.
/// </summary>
public sealed class VaultHealthCheck(VaultKvClient vault) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var health = await vault.HealthAsync(cancellationToken);
            return health switch
            {
                { Sealed: true } => HealthCheckResult.Degraded("Vault is sealed: Vault-backed credentials cannot be checked or written."),
                { Initialized: false } => HealthCheckResult.Degraded("Vault is not initialized."),
                { Status: 200 or 429 or 472 or 473 } => HealthCheckResult.Healthy($"Vault {health.Version} is unsealed."),
                _ => HealthCheckResult.Degraded($"Vault answered {health.Status} to sys/health."),
            };
        }
        catch (VaultException e)
        {
            return HealthCheckResult.Degraded($"{e.Message} Vault-backed credentials fail until it is back; bcrypt-backed ones keep working.");
        }
    }
}
