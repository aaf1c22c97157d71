using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Credentials;

public sealed class CredentialLimitOptions
{
    /// <summary>Credentials an agent may hold that are neither revoked nor expired; a new one beyond it is refused.</summary>
    [ConfigurationKeyName("MAX_ACTIVE_CREDENTIALS_PER_AGENT")]
    [Range(1, 1000, ErrorMessage = "MAX_ACTIVE_CREDENTIALS_PER_AGENT must be from 1 to 1000 (default 10).")]
    public int MaxActivePerAgent { get; set; } = 10;
}
