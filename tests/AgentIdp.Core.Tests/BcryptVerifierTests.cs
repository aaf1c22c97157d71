using AgentIdp.Core.Secrets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Tests;

public sealed class BcryptVerifierTests
{
    /// <summary>Cost 13: each check takes long enough for the ones behind it to be seen waiting.</summary>
    private static readonly SecretHasher SlowHasher = new(Options.Create(new SecretHashingOptions { BcryptCost = 13 }));

    private static BcryptVerifier Verifier(int concurrency, int queue) =>
        new(SlowHasher, Options.Create(new SecretVerificationOptions { Concurrency = concurrency, QueueLimit = queue }),
            NullLogger<BcryptVerifier>.Instance);

    [Fact]
    public async Task Checks_beyond_the_threads_and_the_queue_are_shed_at_once_and_the_others_get_their_answer()
    {
        using var verifier = Verifier(concurrency: 1, queue: 1);
        var secret = ClientSecret.Generate(Guid.NewGuid());
        var hash = SlowHasher.Hash(secret);

        var running = verifier.VerifyAsync(secret, hash, CancellationToken.None);
        await WaitUntilAsync(() => !verifier.IsSaturated); // the first has left the queue for the thread
        var waiting = verifier.VerifyAsync(ClientSecret.Generate(Guid.NewGuid()), hash, CancellationToken.None);
        Assert.True(verifier.IsSaturated);
        var shed = verifier.VerifyAsync(secret, hash, CancellationToken.None);
        var decoyShed = verifier.VerifyDecoyAsync(secret, CancellationToken.None);

        Assert.True(shed.IsCompleted && decoyShed.IsCompleted, "a shed check is answered without waiting");
        Assert.Equal(BcryptCheck.Shed, await shed);
        Assert.Equal(BcryptCheck.Shed, await decoyShed);
        Assert.Equal(BcryptCheck.Match, await running);
        Assert.Equal(BcryptCheck.Mismatch, await waiting);
        Assert.False(verifier.IsSaturated);
    }

    [Fact]
    public async Task A_queued_check_whose_caller_has_gone_is_not_run()
    {
        using var verifier = Verifier(concurrency: 1, queue: 2);
        var secret = ClientSecret.Generate(Guid.NewGuid());
        var hash = SlowHasher.Hash(secret);
        using var gone = new CancellationTokenSource();

        var running = verifier.VerifyAsync(secret, hash, CancellationToken.None);
        var abandoned = verifier.VerifyAsync(secret, hash, gone.Token);
        await gone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.False(running.IsCompleted, "the abandoned caller was answered without waiting for the check ahead of it");
        Assert.Equal(BcryptCheck.Match, await running);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }
}
