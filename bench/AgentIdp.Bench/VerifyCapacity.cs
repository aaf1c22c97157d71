using System.Diagnostics;
using AgentIdp.Core.Secrets;
using Microsoft.Extensions.Options;

namespace AgentIdp.Bench;

/// <summary>
/// What the cores can verify: one thread per core checking a correct secret against a cost-N bcrypt hash,
/// over and over, with nothing else running. With the cache off every token costs one such check, so the
/// cold-bcrypt row is read as a ratio of this.
/// </summary>
internal static class VerifyCapacity
{
    /// <summary>Verifications per second, all cores together.</summary>
    public static double Measure(int bcryptCost, TimeSpan duration, CancellationToken cancellationToken)
    {
        var secret = ClientSecret.Generate(Guid.NewGuid());
        var hash = new SecretHasher(Options.Create(new SecretHashingOptions { BcryptCost = bcryptCost })).Hash(secret);
        var rates = new double[Environment.ProcessorCount];
        var failed = 0;
        var threads = Enumerable.Range(0, rates.Length).Select(i => new Thread(() =>
        {
            var started = Stopwatch.GetTimestamp();
            var verified = 0;
            while (Stopwatch.GetElapsedTime(started) < duration && !cancellationToken.IsCancellationRequested)
            {
                if (!SecretHasher.Verify(secret, hash))
                {
                    Interlocked.Exchange(ref failed, 1);
                    return;
                }
                verified++;
            }
            // Each thread's own time: they do not all finish their last check at the same instant.
            rates[i] = verified / Stopwatch.GetElapsedTime(started).TotalSeconds;
        })
        { IsBackground = true, Name = $"verify-{i + 1}" }).ToList();

        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        cancellationToken.ThrowIfCancellationRequested();
        if (failed != 0)
        {
            throw new BenchmarkFailure("SecretHasher.Verify refused the secret its own hash was made from.");
        }
        return rates.Sum();
    }
}
