using System.Net;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Lockout;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentIdp.Core.Tests;

public sealed class LockoutTests : IAsyncLifetime
{
    private static readonly LockoutOptions Settings = new() { ClientMaxFailures = 3, SourceMaxFailures = 5, WindowSeconds = 60, DurationSeconds = 60 };

    private TestData _data = null!;
    private CredentialLookup.DataSource _source = null!;

    public async Task InitializeAsync()
    {
        _data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        _source = new CredentialLookup.DataSource(_data.ConnectionString);
    }

    public Task DisposeAsync()
    {
        _source.Dispose();
        return Task.CompletedTask;
    }

    private FailedAuthentications Failures => new(_source, Options.Create(Settings));

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    public void A_source_is_counted_by_its_IPv4_address_or_its_IPv6_64_block(string address, string key) =>
        Assert.Equal(key, LockoutKeys.SourceKey(IPAddress.Parse(address)));

    [Fact]
    public void Only_an_agent_id_in_canonical_form_is_counted_as_a_client_id_and_a_lock_set_to_0_counts_nothing()
    {
        var id = Guid.NewGuid().ToString();
        var ip = IPAddress.Parse("203.0.113.7");

        Assert.Equal(new LockoutKeys(id, "203.0.113.7"), LockoutKeys.For(id, ip, Settings));
        Assert.Equal(new LockoutKeys(null, "203.0.113.7"), LockoutKeys.For(id.ToUpperInvariant(), ip, Settings));
        Assert.Equal(new LockoutKeys(null, "203.0.113.7"), LockoutKeys.For("aidp_not-a-client-id", ip, Settings));
        Assert.Equal(new LockoutKeys(id, null), LockoutKeys.For(id, null, Settings));
        Assert.True(LockoutKeys.For(id, ip, new LockoutOptions { ClientMaxFailures = 0, SourceMaxFailures = 0 }).IsEmpty);
    }

    [Fact]
    public async Task The_failure_that_reaches_the_maximum_begins_the_lock_and_a_locked_key_is_counted_no_further()
    {
        var keys = new LockoutKeys(Guid.NewGuid().ToString(), "192.0.2.1");

        Assert.Empty(await Failures.CountAsync(keys, CancellationToken.None));
        Assert.Empty(await Failures.CountAsync(keys, CancellationToken.None));
        var begun = Assert.Single(await Failures.CountAsync(keys, CancellationToken.None));
        Assert.Empty(await Failures.CountAsync(keys, CancellationToken.None));
        var source = Assert.Single(await Failures.CountAsync(keys, CancellationToken.None));
        Assert.Empty(await Failures.CountAsync(keys, CancellationToken.None));

        Assert.Equal((LockoutScope.Client, keys.Client, 3), (begun.Scope, begun.Key, begun.Failures));
        Assert.InRange(begun.LockedUntil, DateTimeOffset.UtcNow.AddSeconds(50), DateTimeOffset.UtcNow.AddSeconds(70));
        Assert.Equal((LockoutScope.Source, keys.Source, 5), (source.Scope, source.Key, source.Failures));
        await using var db = _data.Open();
        Assert.Equal(3, await db.AuthLockouts.Where(l => l.Key == keys.Client).Select(l => l.Failures).SingleAsync());
    }

    [Fact]
    public async Task The_lookup_reads_the_locks_with_the_credential_and_sees_a_source_lock_without_one()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        var lookup = new CredentialLookup(_source);
        var keys = new LockoutKeys(agent.Id.ToString(), "192.0.2.2");
        for (var i = 0; i < Settings.SourceMaxFailures; i++)
        {
            await Failures.CountAsync(keys with { Client = i < 2 ? keys.Client : null }, CancellationToken.None);
        }

        var found = await lookup.FindAsync(credential.Credential.Id, keys, CancellationToken.None);
        var none = await lookup.FindAsync(null, keys with { Client = null }, CancellationToken.None);
        var elsewhere = await lookup.FindAsync(credential.Credential.Id, keys with { Source = "192.0.2.3" }, CancellationToken.None);

        Assert.Equal(agent.Id, found.Credential!.AgentId);
        Assert.Equal(new LockoutState(ClientLocked: false, SourceLocked: true, ClientFailures: 2), found.Lockout);
        Assert.Null(none.Credential);
        Assert.True(none.Lockout.SourceLocked);
        Assert.Equal(new LockoutState(ClientLocked: false, SourceLocked: false, ClientFailures: 2), elsewhere.Lockout);
    }

    [Fact]
    public async Task A_locked_client_id_is_refused_whatever_its_secret()
    {
        var (agent, credential) = await _data.CreateAgentWithCredentialAsync();
        var keys = new LockoutKeys(agent.Id.ToString(), null);
        for (var i = 0; i < Settings.ClientMaxFailures; i++)
        {
            await Failures.CountAsync(keys, CancellationToken.None);
        }

        var result = await _data.SecretValidator().ValidateAsync(agent.Id.ToString(), credential.ClientSecret, keys, CancellationToken.None);

        Assert.Equal(AuthenticationFailure.Locked, result.Failure);
        Assert.False(AuthenticationFailure.Locked.CountsTowardLockout());
    }

    [Fact]
    public async Task The_token_path_query_reads_every_table_by_its_primary_key()
    {
        var (_, credential) = await _data.CreateAgentWithCredentialAsync();
        await using var connection = new NpgsqlConnection(_data.ConnectionString);
        await connection.OpenAsync();
        // The plan a prepared statement settles on, whatever the parameters.
        await using (var prepare = new NpgsqlCommand($"SET plan_cache_mode = force_generic_plan; PREPARE lookup(uuid, text, text) AS {CredentialLookup.Sql}", connection))
        {
            await prepare.ExecuteNonQueryAsync();
        }
        var plan = new List<string>();
        await using (var explain = new NpgsqlCommand($"EXPLAIN EXECUTE lookup('{credential.Credential.Id}', 'a', 'b')", connection))
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }
        var text = string.Join('\n', plan);

        Assert.Contains("pk_credentials", text);
        Assert.Contains("pk_agents", text);
        Assert.Contains("pk_auth_lockouts", text);
        Assert.DoesNotContain("Seq Scan", text);
    }
}
