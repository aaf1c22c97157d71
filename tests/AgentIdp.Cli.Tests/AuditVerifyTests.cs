using AgentIdp.Cli;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AgentIdp.Cli.Tests;

/// <summary>
/// <c>agentidp audit verify</c> against chains tampered with the way a privileged tamperer would: as the table's owner,
/// with the append-only guard and the chain's own triggers switched off first.
/// </summary>
public sealed class AuditVerifyTests
{
    private sealed record Event(long Seq, Guid Id, byte[] Hash);

    private static Task<Run> AgentIdpAsync(TestData data, params string[] args) =>
        Agentidp.RunAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = data.ConnectionString, ["BCRYPT_COST"] = "4" }, args);

    private static Task<Run> VerifyAsync(TestData data, params string[] anchors) =>
        AgentIdpAsync(data, ["audit", "verify", .. anchors.SelectMany(anchor => new[] { "--anchor", anchor })]);

    /// <summary>Six events: two from <c>bootstrap-admin</c> (the credential lifecycle's transactions), four saved by EF Core.</summary>
    private static async Task<(TestData Data, List<Event> Events)> ChainAsync()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        Assert.Equal(0, (await AgentIdpAsync(data, "bootstrap-admin", "--email", "admin@example.com", "--owner", "ops")).ExitCode);
        await using (var db = data.Open())
        {
            for (var i = 0; i < 4; i++)
            {
                db.AuditEvents.Add(AuditEvent.Create(AuditActions.TokenIssued, AuditOutcome.Success, DateTimeOffset.UtcNow,
                    Guid.NewGuid(), actor: $"agent-{i}", ip: System.Net.IPAddress.Parse("198.51.100.23"), details: $$"""{"jti": "t{{i}}"}"""));
                await db.SaveChangesAsync();
            }
        }
        return (data, await EventsAsync(data));
    }

    private static async Task<List<Event>> EventsAsync(TestData data)
    {
        await using var db = data.Open();
        return await db.AuditEvents.OrderBy(e => e.Sequence).Select(e => new Event(e.Sequence, e.Id, e.Hash!)).ToListAsync();
    }

    /// <summary>Runs <paramref name="sql"/> with every trigger of the chain's tables off, as their owner or a superuser can.</summary>
    private static async Task TamperAsync(TestData data, string sql)
    {
        await using var connection = new NpgsqlConnection(data.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"""
            ALTER TABLE audit_events DISABLE TRIGGER USER;
            ALTER TABLE audit_chain_head DISABLE TRIGGER USER;
            {sql};
            ALTER TABLE audit_events ENABLE TRIGGER USER;
            ALTER TABLE audit_chain_head ENABLE TRIGGER USER;
            """, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static void AssertBrokenAt(Run run, Event at, string why)
    {
        Assert.Equal(AgentIdpCommand.AuditChainBroken, run.ExitCode);
        Assert.Contains($"The audit chain is broken at seq {at.Seq} (event {at.Id})", run.Output);
        Assert.Contains(why, run.Output);
        Assert.Contains($"The first {at.Seq - 1} event(s) are intact.", run.Output);
    }

    [Fact]
    public async Task An_untouched_chain_is_intact_and_its_head_is_printed_to_be_recorded()
    {
        var (data, events) = await ChainAsync();

        var run = await VerifyAsync(data);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("The audit chain is intact: 6 event(s), seq 1 to 6.", run.Output);
        Assert.Contains($"Head: 6:{AuditChain.ToHex(events[^1].Hash)}", run.Output);
        Assert.Empty(run.Error);
    }

    [Fact]
    public async Task An_empty_log_is_an_intact_chain()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

        var run = await VerifyAsync(data);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("there is no event yet", run.Output);
        Assert.Contains($"Head: 0:{new string('0', 64)}", run.Output);
    }

    [Theory]
    [InlineData("details = '{\"jti\": \"forged\"}'")]
    [InlineData("action = 'token.revoked'")]
    [InlineData("outcome = 'failure'")]
    [InlineData("actor = NULL")]
    [InlineData("actor = 'someone-else'")]
    [InlineData("agent_id = gen_random_uuid()")]
    [InlineData("ip = '203.0.113.9'")]
    [InlineData("occurred_at = occurred_at - interval '1 microsecond'")]
    [InlineData("id = gen_random_uuid()")]
    public async Task Editing_an_event_breaks_the_chain_at_that_event(string change)
    {
        var (data, events) = await ChainAsync();
        await TamperAsync(data, $"UPDATE audit_events SET {change} WHERE seq = 4");
        var edited = (await EventsAsync(data))[3];

        var run = await VerifyAsync(data);

        AssertBrokenAt(run, edited, "its contents do not match its hash: the event was changed after it was written");
        Assert.Equal(events[3].Seq, edited.Seq);
    }

    [Fact]
    public async Task Deleting_an_event_is_named_at_the_event_after_the_gap()
    {
        var (data, events) = await ChainAsync();
        await TamperAsync(data, "DELETE FROM audit_events WHERE seq = 3");

        var run = await VerifyAsync(data);

        Assert.Equal(AgentIdpCommand.AuditChainBroken, run.ExitCode);
        Assert.Contains($"The audit chain is broken at seq 4 (event {events[3].Id}): seq 3 is missing before it: an event was deleted.", run.Output);
        Assert.Contains("The first 2 event(s) are intact.", run.Output);
    }

    [Fact]
    public async Task Deleting_the_newest_events_is_found_by_the_head()
    {
        var (data, events) = await ChainAsync();
        await TamperAsync(data, "DELETE FROM audit_events WHERE seq >= 5");

        var run = await VerifyAsync(data);

        Assert.Equal(AgentIdpCommand.AuditChainBroken, run.ExitCode);
        Assert.Contains($"The audit chain is broken at seq 4 (event {events[3].Id}): the head of the chain names seq 6, but the last event is seq 4: " +
            "the newest events were deleted.", run.Output);
    }

    [Fact]
    public async Task Deleting_every_event_is_found_by_the_head()
    {
        var (data, _) = await ChainAsync();
        await TamperAsync(data, "DELETE FROM audit_events");

        var run = await VerifyAsync(data);

        Assert.Equal(AgentIdpCommand.AuditChainBroken, run.ExitCode);
        Assert.Contains("The audit chain is broken at its head: the head of the chain names seq 6, but there is no event: every event was deleted.", run.Output);
    }

    [Fact]
    public async Task Swapping_two_events_places_is_found_where_the_order_breaks()
    {
        var (data, events) = await ChainAsync();
        await TamperAsync(data, """
            UPDATE audit_events SET seq = -3 WHERE seq = 3;
            UPDATE audit_events SET seq = 3 WHERE seq = 4;
            UPDATE audit_events SET seq = 4 WHERE seq = -3
            """);

        var run = await VerifyAsync(data);

        // seq 3 is now the event that was fourth: it links to the old third, not to seq 2.
        AssertBrokenAt(run, events[3] with { Seq = 3 }, "its prev_hash is not the hash of seq 2: events were reordered, inserted or replaced");
    }

    [Fact]
    public async Task Rehashing_an_edited_event_without_rewriting_the_rest_of_the_chain_is_found_at_the_next_event()
    {
        var (data, events) = await ChainAsync();
        await TamperAsync(data, """
            UPDATE audit_events SET details = '{"jti": "forged"}' WHERE seq = 3;
            UPDATE audit_events SET hash = audit_chain_hash(prev_hash, seq, id, occurred_at, action, outcome, agent_id, actor, ip, details) WHERE seq = 3
            """);

        var run = await VerifyAsync(data);

        AssertBrokenAt(run, events[3], "its prev_hash is not the hash of seq 3: events were reordered, inserted or replaced, or the hash of seq 3 was rewritten");
    }

    [Fact]
    public async Task A_chain_rewritten_to_its_head_passes_alone_but_not_against_the_head_recorded_before()
    {
        var (data, events) = await ChainAsync();
        var recorded = $"6:{AuditChain.ToHex(events[^1].Hash)}";
        // What verify cannot catch alone: the table's owner edits an event and recomputes every hash after it, and the head.
        await TamperAsync(data, """
            UPDATE audit_events SET details = '{"jti": "forged"}' WHERE seq = 3;
            DO $$
            DECLARE e record;
            BEGIN
                FOR e IN SELECT * FROM audit_events WHERE seq >= 3 ORDER BY seq LOOP
                    UPDATE audit_events SET
                        prev_hash = (SELECT hash FROM audit_events WHERE seq = e.seq - 1),
                        hash = audit_chain_hash((SELECT hash FROM audit_events WHERE seq = e.seq - 1), e.seq, e.id, e.occurred_at, e.action,
                            e.outcome, e.agent_id, e.actor, e.ip, e.details)
                    WHERE seq = e.seq;
                END LOOP;
                UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_events WHERE seq = 6);
            END $$
            """);

        var alone = await VerifyAsync(data);
        var anchored = await VerifyAsync(data, recorded);

        Assert.Equal(0, alone.ExitCode);
        AssertBrokenAt(anchored, events[5], $"but {recorded[2..]} was recorded for seq 6: the chain was rewritten up to here");
    }

    [Fact]
    public async Task Recorded_heads_the_chain_still_runs_through_pass()
    {
        var (data, events) = await ChainAsync();
        await using (var db = data.Open())
        {
            db.AuditEvents.Add(AuditEvent.Create(AuditActions.TokenRevoked, AuditOutcome.Success, DateTimeOffset.UtcNow, details: """{"jti": "later"}"""));
            await db.SaveChangesAsync();
        }

        var run = await VerifyAsync(data, $"6:{AuditChain.ToHex(events[5].Hash)}", $"2:{AuditChain.ToHex(events[1].Hash)}");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("7 event(s), seq 1 to 7, through 2 recorded anchor(s).", run.Output);
    }

    [Fact]
    public async Task A_recorded_head_beyond_the_end_of_the_chain_is_found()
    {
        var (data, events) = await ChainAsync();
        // The newest events deleted, and the head moved back to hide it.
        await TamperAsync(data, "DELETE FROM audit_events WHERE seq >= 5; UPDATE audit_chain_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4)");

        var alone = await VerifyAsync(data);
        var anchored = await VerifyAsync(data, $"6:{AuditChain.ToHex(events[5].Hash)}");

        Assert.Equal(0, alone.ExitCode);
        Assert.Equal(AgentIdpCommand.AuditChainBroken, anchored.ExitCode);
        Assert.Contains($"The audit chain is broken at seq 4 (event {events[3].Id}): the chain ends at seq 4, but seq 6 was recorded", anchored.Output);
    }

    [Theory]
    [InlineData("6")]
    [InlineData("0:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("6:abc")]
    public async Task An_anchor_that_is_not_SEQ_HASH_is_refused(string anchor)
    {
        var (data, _) = await ChainAsync();

        var run = await VerifyAsync(data, anchor);

        Assert.Equal(AgentIdpCommand.OperationFailed, run.ExitCode);
        Assert.Contains($"--anchor {anchor} is not SEQ:HASH", run.Error);
        Assert.Empty(run.Output);
    }
}
