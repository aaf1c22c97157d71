using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Secrets;

public sealed class SecretHashingOptions
{
    /// <summary>bcrypt work factor for new hashes. Each step doubles the cost of a check.</summary>
    [ConfigurationKeyName("BCRYPT_COST")]
    [Range(4, 31, ErrorMessage = "BCRYPT_COST must be a whole number from 4 to 31 (default 10).")]
    public int BcryptCost { get; set; } = 10;
}
