using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Secrets;

/// <summary>How much bcrypt work runs at once, and how much may wait, before token requests are shed.</summary>
public sealed class SecretVerificationOptions
{
    /// <summary>bcrypt checks that run at once, each on a thread of its own; default: the number of cores.</summary>
    [ConfigurationKeyName("SECRET_VERIFY_CONCURRENCY")]
    [Range(1, 1024, ErrorMessage = "SECRET_VERIFY_CONCURRENCY must be from 1 to 1024 (default: the number of cores).")]
    public int Concurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>bcrypt checks that may wait for a thread; beyond, the request is answered 503 at once.</summary>
    [ConfigurationKeyName("SECRET_VERIFY_QUEUE")]
    [Range(1, 100_000, ErrorMessage = "SECRET_VERIFY_QUEUE must be from 1 to 100000 (default: 16 per core).")]
    public int QueueLimit { get; set; } = 16 * Environment.ProcessorCount;
}
