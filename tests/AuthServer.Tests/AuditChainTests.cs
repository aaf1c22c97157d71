using AgentIdp.Cli;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AuthServer.Tests;

/// <summary>The AuthServer's COPY batches in the audit chain, beside the other writers.</summary>
public sealed class AuditChainTests
{
    private static async Task<TestData> NewDatabaseAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    private static async Task<(int ExitCode, string Output)> AgentidpAsync(TestData data, params string[] args)
    {
        var output = new StringWriter();
        var exitCode = await AgentIdpCommand.RunAsync(args,
            new Dictionary<string, string?> { ["DATABASE_URL"] = data.ConnectionString, ["BCRYPT_COST"] = "4" }, output, new StringWriter());
        return (exitCode, output.ToString());
    }

    private static async Task<int> TokensIssuedAsync(TestData data)
    {
        await using var db = data.Open();
        return await db.AuditEvents.CountAsync(e => e.Action == AuditActions.TokenIssued);
    }

    [Fact]
    public async Task Two_replicas_and_the_operator_command_writing_at_once_make_one_whole_chain()
    {
        var data = await NewDatabaseAsync();
        await using var one = new AuthServerFactory(data.ConnectionString);
        await using var two = new AuthServerFactory(data.ConnectionString);
        using var first = one.CreateClient();
        using var second = two.CreateClient();
        var agents = new List<(AgentIdp.Core.Agents.Agent Agent, AgentIdp.Core.Credentials.IssuedCredential Credential)>();
        for (var i = 0; i < 4; i++)
        {
            agents.Add(await data.CreateAgentWithCredentialAsync());
        }

        var tokens = Enumerable.Range(0, 40).Select(i =>
        {
            var (agent, credential) = agents[i % agents.Count];
            return (i % 2 == 0 ? first : second).GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        });
        var failures = Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? first : second).RequestTokenAsync(agents[i % agents.Count].Agent.Id.ToString(), "aidp_wrong");
        });
        var commands = Enumerable.Range(0, 3).Select(_ => AgentidpAsync(data, "bootstrap-admin", "--email", "admin@example.com", "--owner", "ops"));
        await Task.WhenAll([.. tokens, .. failures, .. commands]);
        await TestData.EventuallyAsync(async () => await TokensIssuedAsync(data) == 40 ? "all written" : null);

        var (exitCode, output) = await AgentidpAsync(data, "audit", "verify");

        Assert.True(exitCode == 0, output);
        await using var db = data.Open();
        var count = await db.AuditEvents.CountAsync();
        Assert.Equal(count, await db.AuditEvents.MaxAsync(e => e.Sequence));
        Assert.Contains($"{count} event(s), seq 1 to {count}", output);
    }

    [Fact]
    public async Task A_change_holding_the_chain_can_still_update_a_credential_the_AuthServer_is_marking_used()
    {
        var data = await NewDatabaseAsync();
        await using (var admin = new NpgsqlConnection(data.ConnectionString))
        {
            // No deadlock detection to break the tie for us: were the AuthServer to wait for the chain while holding the
            // credential's row, the update below would wait past its lock_timeout.
            await admin.OpenAsync();
            var database = new NpgsqlConnectionStringBuilder(data.ConnectionString).Database;
            await using var slow = new NpgsqlCommand($"ALTER DATABASE \"{database}\" SET deadlock_timeout = '60s'", admin);
            await slow.ExecuteNonQueryAsync();
        }
        await using var factory = new AuthServerFactory(data.ConnectionString);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();

        // An admin API change half-way, as EF Core orders it: its event inserted (it now holds the chain's head until it
        // commits), its credential update still to come.
        await using var change = new NpgsqlConnection(data.ConnectionString);
        await change.OpenAsync();
        await using var transaction = await change.BeginTransactionAsync();
        await using (var recorded = new NpgsqlCommand(
            "INSERT INTO audit_events (id, occurred_at, action, outcome, agent_id, details) VALUES (gen_random_uuid(), now(), 'credential.rotated', 'success', $1, '{}')",
            change, transaction)
        { Parameters = { new() { Value = agent.Id } } })
        {
            await recorded.ExecuteNonQueryAsync();
        }
        await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        await TestData.EventuallyAsync(async () =>
        {
            await using var watcher = new NpgsqlConnection(data.ConnectionString);
            await watcher.OpenAsync();
            await using var waiting = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'COPY audit_events%'", watcher);
            return (long)(await waiting.ExecuteScalarAsync())! > 0 ? "the AuthServer's batch waits for the chain" : null;
        });

        await using (var patience = new NpgsqlCommand("SET LOCAL lock_timeout = '5s'", change, transaction))
        {
            await patience.ExecuteNonQueryAsync();
        }
        await using (var rotate = new NpgsqlCommand(
            "UPDATE credentials SET secret_version = secret_version + 1 WHERE id = $1", change, transaction)
        { Parameters = { new() { Value = credential.Credential.Id } } })
        {
            await rotate.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();

        await TestData.EventuallyAsync(async () => await TokensIssuedAsync(data) == 1 ? "written" : null);
        await using var db = data.Open();
        Assert.NotNull(await db.Credentials.Where(c => c.Id == credential.Credential.Id).Select(c => c.LastUsedAt).SingleAsync());
        Assert.Equal(new long[] { 1, 2 }, await db.AuditEvents.OrderBy(e => e.Sequence).Select(e => e.Sequence).ToListAsync());
        Assert.Equal(0, (await AgentidpAsync(data, "audit", "verify")).ExitCode);
        Assert.DoesNotContain("retrying", factory.Logs.Text, StringComparison.Ordinal);
    }
}
