using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentIdp.Core.Tests;

/// <summary>The credential lifecycle on its own, against PostgreSQL in bcrypt mode (Vault mode is covered through the admin API).</summary>
public sealed class CredentialLifecycleTests : IAsyncLifetime
{
    private TestData _data = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = _data.ConnectionString,
            ["BCRYPT_COST"] = "4",
        }).Build();
        _services = new ServiceCollection()
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddAgentIdpDatabase(configuration)
            .AddAgentSecrets(configuration)
            .AddCredentialLifecycle<StoredAuditLog>(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    /// <summary>Runs one lifecycle step in a scope of its own, as one request would.</summary>
    private async Task<T> InScopeAsync<T>(Func<CredentialLifecycle, Task<T>> step)
    {
        await using var scope = _services.CreateAsyncScope();
        return await step(scope.ServiceProvider.GetRequiredService<CredentialLifecycle>());
    }

    private async Task<bool> AuthenticatesAsync(Guid agentId, string secret) =>
        (await _data.SecretValidator().ValidateAsync(agentId.ToString(), secret, CancellationToken.None)).Failure is null;

    private async Task<List<AuditEvent>> EventsAsync(Guid agentId)
    {
        await using var db = _data.Open();
        return await db.AuditEvents.Where(e => e.AgentId == agentId).OrderBy(e => e.Id).ToListAsync();
    }

    private static string Detail(AuditEvent e, string name)
    {
        using var details = System.Text.Json.JsonDocument.Parse(e.Details);
        return details.RootElement.GetProperty(name).ToString();
    }

    [Fact]
    public async Task Generating_commits_the_credential_with_its_event_and_hands_out_a_secret_that_authenticates()
    {
        var agent = await _data.CreateAgentAsync();
        var expiresAt = DateTimeOffset.UtcNow.AddDays(1);

        var change = await InScopeAsync(lifecycle => lifecycle.GenerateAsync(agent.Id, expiresAt, CancellationToken.None));

        var issued = Assert.IsType<IssuedCredential>(change.Result);
        Assert.Null(change.Refusal);
        Assert.True(await AuthenticatesAsync(agent.Id, issued.ClientSecret));
        var generated = Assert.Single(await EventsAsync(agent.Id));
        Assert.Equal((AuditActions.CredentialGenerated, AuditOutcome.Success), (generated.Action, generated.Outcome));
        Assert.Equal(issued.Credential.Id.ToString(), Detail(generated, "credentialId"));
        Assert.Equal(CredentialStorage.Bcrypt, Detail(generated, "storage"));
        Assert.DoesNotContain(issued.ClientSecret, generated.Details);
    }

    [Fact]
    public async Task A_decommissioned_or_unknown_agent_gets_no_credential_and_a_refusal_is_recorded()
    {
        var gone = await _data.CreateAgentAsync(status: AgentStatus.Decommissioned);
        var unknown = Guid.NewGuid();

        var refused = await InScopeAsync(lifecycle => lifecycle.GenerateAsync(gone.Id, null, CancellationToken.None));
        var missing = await InScopeAsync(lifecycle => lifecycle.GenerateAsync(unknown, null, CancellationToken.None));

        Assert.Equal(CredentialRefusal.AgentDecommissioned, refused.Refusal);
        Assert.Equal(CredentialRefusal.AgentNotFound, missing.Refusal);
        await using var db = _data.Open();
        Assert.Equal(0, await db.Credentials.CountAsync(c => c.AgentId == gone.Id || c.AgentId == unknown));
        var failure = Assert.Single(await EventsAsync(gone.Id));
        Assert.Equal((AuditActions.CredentialGenerated, AuditOutcome.Failure), (failure.Action, failure.Outcome));
        Assert.Empty(await EventsAsync(unknown));
    }

    [Fact]
    public async Task Rotating_replaces_the_secret_and_counts_the_version()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();

        var change = await InScopeAsync(lifecycle => lifecycle.RotateAsync(agent.Id, credential.Credential.Id, CancellationToken.None));

        Assert.Equal(2, change.Result!.Credential.SecretVersion);
        Assert.True(await AuthenticatesAsync(agent.Id, change.Result.ClientSecret));
        Assert.False(await AuthenticatesAsync(agent.Id, credential.ClientSecret));
        var rotated = Assert.Single(await EventsAsync(agent.Id));
        Assert.Equal(AuditActions.CredentialRotated, rotated.Action);
        Assert.Equal("2", Detail(rotated, "secretVersion"));
    }

    [Fact]
    public async Task Concurrent_rotations_of_one_credential_take_turns_and_the_last_secret_wins()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();

        var changes = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() =>
            InScopeAsync(lifecycle => lifecycle.RotateAsync(agent.Id, credential.Credential.Id, CancellationToken.None)))));

        Assert.Equal([2, 3, 4, 5, 6], changes.Select(c => c.Result!.Credential.SecretVersion).Order());
        var last = changes.Single(c => c.Result!.Credential.SecretVersion == 6).Result!;
        Assert.True(await AuthenticatesAsync(agent.Id, last.ClientSecret));
        Assert.All(changes.Where(c => c.Result != last), c => Assert.False(AuthenticatesAsync(agent.Id, c.Result!.ClientSecret).Result));
    }

    [Fact]
    public async Task An_expired_credential_is_not_rotated_and_nothing_is_recorded()
    {
        var agent = await _data.CreateAgentAsync();
        var credential = await _data.IssueCredentialAsync(agent.Id, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1));

        var change = await InScopeAsync(lifecycle => lifecycle.RotateAsync(agent.Id, credential.Credential.Id, CancellationToken.None));

        Assert.Equal(CredentialRefusal.CredentialExpired, change.Refusal);
        await using var db = _data.Open();
        Assert.Equal(1, (await db.Credentials.SingleAsync(c => c.Id == credential.Credential.Id)).SecretVersion);
        Assert.Empty(await EventsAsync(agent.Id));
    }

    [Fact]
    public async Task A_revoked_credential_stops_at_once_and_cannot_be_revoked_or_rotated_again()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();

        var revoked = await InScopeAsync(lifecycle => lifecycle.RevokeAsync(agent.Id, credential.Credential.Id, CancellationToken.None));
        var again = await InScopeAsync(lifecycle => lifecycle.RevokeAsync(agent.Id, credential.Credential.Id, CancellationToken.None));
        var rotation = await InScopeAsync(lifecycle => lifecycle.RotateAsync(agent.Id, credential.Credential.Id, CancellationToken.None));

        Assert.Equal(CredentialStatus.Revoked, revoked.Result!.Status);
        Assert.Equal(CredentialRefusal.CredentialRevoked, again.Refusal);
        Assert.Equal(CredentialRefusal.CredentialRevoked, rotation.Refusal);
        Assert.False(await AuthenticatesAsync(agent.Id, credential.ClientSecret));
        Assert.Equal(
            [(AuditActions.CredentialRevoked, AuditOutcome.Success), (AuditActions.CredentialRevoked, AuditOutcome.Failure), (AuditActions.CredentialRotated, AuditOutcome.Failure)],
            (await EventsAsync(agent.Id)).Select(e => (e.Action, e.Outcome)));
    }

    [Fact]
    public async Task A_credential_of_another_agent_is_not_found()
    {
        var (owner, credential) = await _data.CreateAgentWithCredentialAsync();
        var other = await _data.CreateAgentAsync();

        var change = await InScopeAsync(lifecycle => lifecycle.RevokeAsync(other.Id, credential.Credential.Id, CancellationToken.None));

        Assert.Equal(CredentialRefusal.CredentialNotFound, change.Refusal);
        Assert.True(await AuthenticatesAsync(owner.Id, credential.ClientSecret));
    }

    [Fact]
    public async Task Decommissioning_revokes_every_active_credential_with_the_agent_once()
    {
        var (agent, first) = await _data.CreateAgentWithCredentialAsync();
        var second = await _data.IssueCredentialAsync(agent.Id);

        var change = await InScopeAsync(lifecycle => lifecycle.DecommissionAsync(agent.Id, CancellationToken.None));
        var again = await InScopeAsync(lifecycle => lifecycle.DecommissionAsync(agent.Id, CancellationToken.None));

        Assert.Equal(AgentStatus.Decommissioned, change.Result!.Status);
        Assert.Equal(CredentialRefusal.AgentDecommissioned, again.Refusal);
        Assert.False(await AuthenticatesAsync(agent.Id, first.ClientSecret));
        Assert.False(await AuthenticatesAsync(agent.Id, second.ClientSecret));
        var events = await EventsAsync(agent.Id);
        Assert.Equal(2, events.Count(e => e is { Action: AuditActions.CredentialRevoked, Outcome: AuditOutcome.Success }));
        Assert.Single(events, e => e is { Action: AuditActions.AgentDecommissioned, Outcome: AuditOutcome.Success });
        Assert.Single(events, e => e is { Action: AuditActions.AgentDecommissioned, Outcome: AuditOutcome.Failure });
    }

    [Fact]
    public async Task A_change_whose_event_cannot_be_recorded_is_not_made()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        await using var scope = _services.CreateAsyncScope();
        var lifecycle = new CredentialLifecycle(scope.ServiceProvider.GetRequiredService<AgentIdpDbContext>(),
            scope.ServiceProvider.GetRequiredService<CredentialSecrets>(), new RefusingAuditLog(),
            Microsoft.Extensions.Options.Options.Create(new CredentialLimitOptions()), TimeProvider.System);

        await Assert.ThrowsAsync<InvalidOperationException>(() => lifecycle.RotateAsync(agent.Id, credential.Credential.Id, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => lifecycle.GenerateAsync(agent.Id, null, CancellationToken.None));

        Assert.True(await AuthenticatesAsync(agent.Id, credential.ClientSecret));
        await using var db = _data.Open();
        Assert.Equal(1, await db.Credentials.CountAsync(c => c.AgentId == agent.Id));
        Assert.Equal(1, (await db.Credentials.SingleAsync(c => c.AgentId == agent.Id)).SecretVersion);
    }

    /// <summary>Stores events as the services do: a success with the change, a refusal on its own.</summary>
    private sealed class StoredAuditLog(AgentIdpDbContext db, IServiceScopeFactory scopes) : DatabaseAuditLog(db, scopes)
    {
        protected override AuditEvent Create(string action, AuditOutcome outcome, Guid? agentId, object details) =>
            AuditEvent.Create(action, outcome, DateTimeOffset.UtcNow, agentId, details: System.Text.Json.JsonSerializer.Serialize(details, AuditEvent.DetailsJson));
    }

    private sealed class RefusingAuditLog : IAuditLog
    {
        public void Record(string action, Guid? agentId, object details) => throw new InvalidOperationException("The audit log is unavailable.");

        public Task RecordFailureAsync(string action, Guid? agentId, object details, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The audit log is unavailable.");
    }
}
