using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentIdp.Core.Tests;

public sealed class AgentSecretValidatorTests : IAsyncLifetime
{
    private TestData _data = null!;

    public async Task InitializeAsync() => _data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<SecretValidationResult> ValidateAsync(string? clientId, string? secret) =>
        _data.SecretValidator().ValidateAsync(clientId, secret, CancellationToken.None);

    [Fact]
    public async Task A_valid_secret_authenticates_its_agent_with_its_credential_and_capabilities()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync(["invoices:read"]);

        var result = await ValidateAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Null(result.Failure);
        Assert.Equal(agent.Id, result.Agent!.AgentId);
        Assert.Equal(credential.Credential.Id, result.Agent.CredentialId);
        Assert.Equal(1, result.Agent.SecretVersion);
        Assert.Equal(["invoices:read"], result.Agent.Capabilities);
    }

    [Fact]
    public async Task Each_failure_has_its_own_reason_for_the_audit_log()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        var (other, _) = await _data.CreateAgentWithCredentialAsync();

        Assert.Equal(AuthenticationFailure.MissingSecret, (await ValidateAsync(agent.Id.ToString(), "")).Failure);
        Assert.Equal(AuthenticationFailure.UnknownClient, (await ValidateAsync("not-a-uuid", credential.ClientSecret)).Failure);
        Assert.Equal(AuthenticationFailure.MalformedSecret, (await ValidateAsync(agent.Id.ToString(), "hunter2")).Failure);
        Assert.Equal(AuthenticationFailure.UnknownCredential, (await ValidateAsync(agent.Id.ToString(), ClientSecret.Generate(Guid.NewGuid()))).Failure);
        Assert.Equal(AuthenticationFailure.UnknownCredential, (await ValidateAsync(other.Id.ToString(), credential.ClientSecret)).Failure);
        Assert.Equal(AuthenticationFailure.WrongSecret, (await ValidateAsync(agent.Id.ToString(), ClientSecret.Generate(credential.Credential.Id))).Failure);
    }

    [Fact]
    public async Task The_state_of_the_credential_and_the_agent_is_checked()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        var expired = await _data.IssueCredentialAsync(agent.Id, DateTimeOffset.UtcNow.AddMinutes(-1));
        await using (var db = _data.Open())
        {
            await db.Credentials.Where(c => c.Id == credential.Credential.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CredentialStatus.Revoked).SetProperty(c => c.RevokedAt, DateTimeOffset.UtcNow));
        }
        var suspended = await _data.CreateAgentAsync(status: AgentStatus.Suspended);
        var suspendedCredential = await _data.IssueCredentialAsync(suspended.Id);
        var gone = await _data.CreateAgentAsync(status: AgentStatus.Decommissioned);
        var goneCredential = await _data.IssueCredentialAsync(gone.Id);

        Assert.Equal(AuthenticationFailure.CredentialRevoked, (await ValidateAsync(agent.Id.ToString(), credential.ClientSecret)).Failure);
        Assert.Equal(AuthenticationFailure.CredentialExpired, (await ValidateAsync(agent.Id.ToString(), expired.ClientSecret)).Failure);
        Assert.Equal(AuthenticationFailure.AgentSuspended, (await ValidateAsync(suspended.Id.ToString(), suspendedCredential.ClientSecret)).Failure);
        Assert.Equal(AuthenticationFailure.AgentDecommissioned, (await ValidateAsync(gone.Id.ToString(), goneCredential.ClientSecret)).Failure);
    }

    [Fact]
    public async Task A_rotated_secret_replaces_the_old_one_at_once()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        string rotated;
        await using (var db = _data.Open())
        {
            var row = await db.Credentials.SingleAsync(c => c.Id == credential.Credential.Id);
            rotated = TestData.Rotate(row);
            await db.SaveChangesAsync();
        }

        Assert.Equal(AuthenticationFailure.WrongSecret, (await ValidateAsync(agent.Id.ToString(), credential.ClientSecret)).Failure);
        var result = await ValidateAsync(agent.Id.ToString(), rotated);
        Assert.Equal(2, result.Agent!.SecretVersion);
    }

    [Fact]
    public async Task A_cache_hit_does_not_extend_the_TTL_which_runs_from_the_last_full_check()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new VerifiedSecretCache(Options.Create(new SecretCacheOptions { TtlSeconds = 600 }), time);
        var validator = _data.SecretValidator(cache, time);
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        Task<SecretValidationResult> ValidateAsync() => validator.ValidateAsync(agent.Id.ToString(), credential.ClientSecret, CancellationToken.None);

        Assert.Null((await ValidateAsync()).Failure); // the full check
        // The stored hash no longer matches (as if replaced by hand, without a new version): only a full check can tell.
        await using (var db = _data.Open())
        {
            await db.Credentials.Where(c => c.Id == credential.Credential.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.SecretHash, TestData.Hasher.Hash(ClientSecret.Generate(credential.Credential.Id))));
        }
        time.Advance(TimeSpan.FromSeconds(500));
        Assert.Null((await ValidateAsync()).Failure); // from the cache

        time.Advance(TimeSpan.FromSeconds(101)); // 601 s after the full check, 101 s after the hit
        Assert.Equal(AuthenticationFailure.WrongSecret, (await ValidateAsync()).Failure);
    }
}
