using System.Buffers;
using System.Net;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Persistence;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;
using NpgsqlTypes;

namespace AgentIdp.Core.Tests;

/// <summary>The audit chain as PostgreSQL builds it, checked against the encoding written down in C# (and in docs/operations.md).</summary>
public sealed class AuditChainTests
{
    private static async Task<TestData> MigratedAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    private static async Task<AuditChainVerification> VerifyAsync(TestData data)
    {
        await using var dataSource = NpgsqlDataSource.Create(data.ConnectionString);
        return await new AuditChainVerifier(dataSource).VerifyAsync([], CancellationToken.None);
    }

    private static AuditEvent NewEvent(string details = """{"n": 1}""", string? actor = null, IPAddress? ip = null, Guid? agentId = null) =>
        AuditEvent.Create(AuditActions.TokenIssued, AuditOutcome.Success, DateTimeOffset.UtcNow, agentId, actor, ip, details);

    /// <summary>The AuthServer's way in: one binary COPY, without seq or hashes.</summary>
    private static async Task CopyAsync(NpgsqlConnection connection, IEnumerable<AuditEvent> events)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY audit_events (id, occurred_at, action, outcome, agent_id, actor, ip, details) FROM STDIN (FORMAT BINARY)");
        foreach (var e in events)
        {
            await copy.StartRowAsync();
            await copy.WriteAsync(e.Id, NpgsqlDbType.Uuid);
            await copy.WriteAsync(e.OccurredAt, NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(e.Action, NpgsqlDbType.Varchar);
            await copy.WriteAsync("success", NpgsqlDbType.Text);
            await copy.WriteNullAsync();
            await copy.WriteNullAsync();
            await copy.WriteNullAsync();
            await copy.WriteAsync(e.Details, NpgsqlDbType.Jsonb);
        }
        await copy.CompleteAsync();
    }

    private static async Task<List<long>> SequencesAsync(TestData data)
    {
        await using var db = data.Open();
        return await db.AuditEvents.OrderBy(e => e.Sequence).Select(e => e.Sequence).ToListAsync();
    }

    [Fact]
    public void The_canonical_bytes_and_the_hash_are_the_documented_ones()
    {
        // The worked example of docs/operations.md, "Tamper-evident audit log".
        var entry = new AuditChainEntry(1, Guid.Parse("01a22e2a-d015-7257-8312-0c955fedf5cf"),
            DateTimeOffset.Parse("2026-11-30T20:34:47.445858Z", System.Globalization.CultureInfo.InvariantCulture), "agent.decommissioned", "success",
            Guid.Parse("ae62a024-a670-4e13-830e-ec96985a356a"), "09c0bde8-624b-4519-97d5-73ac09e7b5d3", "198.51.100.23/32",
            """{"revokedCredentials": ["e3baf579-9cd6-475b-a2f3-3fafb667c049"]}""");
        var canonical = new ArrayBufferWriter<byte>();

        AuditChain.WriteCanonical(canonical, entry);

        Assert.Equal(
            "00000008" + "0000000000000001" + "00000010" + "01a22e2ad015725783120c955fedf5cf" + "00000008" + "00066184573cd562"
            + "00000014" + "6167656e742e6465636f6d6d697373696f6e6564" + "00000007" + "73756363657373"
            + "00000010" + "ae62a024a6704e13830eec96985a356a" + "00000024" + "30396330626465382d363234622d343531392d393764352d373361633039653762356433"
            + "00000010" + "3139382e35312e3130302e32332f3332"
            + "00000040" + "7b227265766f6b656443726564656e7469616c73223a205b2265336261663537392d396364362d343735622d613266332d336661666236363763303439225d7d",
            Convert.ToHexStringLower(canonical.WrittenSpan));
        Assert.Equal("7fc241227db586f75f35744e2d06ec98f50bc117a8b40f5a765e422ff3a5d022", AuditChain.ToHex(AuditChain.HashOf(AuditChain.Genesis, entry)));
    }

    [Fact]
    public void A_missing_field_is_not_an_empty_one()
    {
        var missing = new AuditChainEntry(1, Guid.Empty, DateTimeOffset.UnixEpoch, "a", "success", AgentId: null, Actor: null, Ip: null, "{}");
        var empty = missing with { Actor = "" };
        var canonical = new ArrayBufferWriter<byte>();

        AuditChain.WriteCanonical(canonical, missing);

        Assert.EndsWith("ffffffff" + "ffffffff" + "ffffffff" + "00000002" + "7b7d", Convert.ToHexStringLower(canonical.WrittenSpan));
        Assert.NotEqual(AuditChain.HashOf(AuditChain.Genesis, missing), AuditChain.HashOf(AuditChain.Genesis, empty));
    }

    [Fact]
    public async Task Every_event_is_chained_to_the_one_before_it_by_PostgreSQL_as_the_documented_encoding_says()
    {
        var data = await MigratedAsync();
        await using (var db = data.Open())
        {
            db.AuditEvents.AddRange(
                NewEvent(),
                NewEvent(actor: "", ip: IPAddress.Parse("2001:db8::1"), agentId: Guid.NewGuid()), // an empty actor is not a missing one
                NewEvent("""{"b": [1.50, 2e3, null], "a": "é 😀 \"quoted\"", "nested": {"z": true}}""", actor: "agent", ip: IPAddress.Loopback));
            await db.SaveChangesAsync();
        }
        await using (var connection = new NpgsqlConnection(data.ConnectionString))
        {
            await connection.OpenAsync();
            await CopyAsync(connection, [NewEvent(), NewEvent("""{"big": 12345678901234567890}""")]);
            // Whatever seq and hashes a writer sends are overwritten.
            await using var forged = new NpgsqlCommand(
                """
                INSERT INTO audit_events (id, occurred_at, action, outcome, details, seq, prev_hash, hash)
                VALUES (gen_random_uuid(), now(), 'token.issued', 'success', '{}', 1000, '\x01', '\x02')
                """, connection);
            await forged.ExecuteNonQueryAsync();
        }

        var verification = await VerifyAsync(data);

        Assert.True(verification.Intact, verification.Fault?.Reason);
        Assert.Equal(6, verification.Checked);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, await SequencesAsync(data));
        await using var check = data.Open();
        var last = await check.AuditEvents.SingleAsync(e => e.Sequence == 6);
        Assert.Equal(last.Hash, verification.Head.Hash);
        Assert.Equal(6, verification.Head.Sequence);
        var first = await check.AuditEvents.SingleAsync(e => e.Sequence == 1);
        Assert.Equal(new byte[AuditChain.HashLength], first.PreviousHash);
    }

    [Fact]
    public async Task A_new_event_read_back_by_EF_Core_carries_its_place_in_the_chain()
    {
        var data = await MigratedAsync();
        await using var db = data.Open();
        var first = NewEvent();
        var second = NewEvent();
        db.AuditEvents.AddRange(first, second);

        await db.SaveChangesAsync();

        Assert.Equal(new long[] { 1, 2 }, new[] { first.Sequence, second.Sequence }.Order());
        var (earlier, later) = first.Sequence == 1 ? (first, second) : (second, first);
        Assert.Equal(earlier.Hash, later.PreviousHash);
        Assert.Equal(AuditChain.HashLength, later.Hash!.Length);
    }

    [Fact]
    public async Task A_rolled_back_event_leaves_no_gap()
    {
        var data = await MigratedAsync();
        await using (var db = data.Open())
        {
            db.AuditEvents.Add(NewEvent());
            await db.SaveChangesAsync();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.AuditEvents.Add(NewEvent("""{"rolledBack": true}"""));
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }
        await using (var db = data.Open())
        {
            db.AuditEvents.Add(NewEvent());
            await db.SaveChangesAsync();
        }

        Assert.Equal(new long[] { 1, 2 }, await SequencesAsync(data));
        Assert.True((await VerifyAsync(data)).Intact);
    }

    [Fact]
    public async Task Concurrent_writers_of_both_kinds_make_one_gapless_chain()
    {
        var data = await MigratedAsync();
        const int Writers = 6;
        const int Rounds = 15;

        var written = await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            var committed = 0;
            for (var round = 0; round < Rounds; round++)
            {
                if (writer % 2 == 0)
                {
                    // The AuthServer's way: a COPY batch of its own.
                    await using var connection = new NpgsqlConnection(data.ConnectionString);
                    await connection.OpenAsync();
                    await CopyAsync(connection, Enumerable.Range(0, 20).Select(_ => NewEvent()));
                    committed += 20;
                }
                else
                {
                    // The admin API's way: events in an EF Core transaction, which now and then rolls back.
                    await using var db = data.Open();
                    await using var transaction = await db.Database.BeginTransactionAsync();
                    db.AuditEvents.AddRange(NewEvent(), NewEvent());
                    await db.SaveChangesAsync();
                    if (round % 3 == 0)
                    {
                        await transaction.RollbackAsync();
                    }
                    else
                    {
                        await transaction.CommitAsync();
                        committed += 2;
                    }
                }
            }
            return committed;
        })));

        var total = written.Sum();
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), await SequencesAsync(data));
        var verification = await VerifyAsync(data);
        Assert.True(verification.Intact, verification.Fault?.Reason);
        Assert.Equal(total, verification.Checked);
    }

    [Fact]
    public async Task The_head_only_moves_forward_and_cannot_be_removed()
    {
        var data = await MigratedAsync();
        await using (var db = data.Open())
        {
            db.AuditEvents.Add(NewEvent());
            await db.SaveChangesAsync();
        }
        await using var connection = new NpgsqlConnection(data.ConnectionString);
        await connection.OpenAsync();

        foreach (var sql in new[]
                 {
                     "UPDATE audit_chain_head SET seq = 0", "DELETE FROM audit_chain_head", "TRUNCATE audit_chain_head",
                     "INSERT INTO audit_chain_head (seq, hash) VALUES (5, decode(repeat('00', 32), 'hex'))",
                 })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        }
        Assert.True((await VerifyAsync(data)).Intact);
    }

    [Fact]
    public async Task The_events_stored_before_the_chain_are_chained_in_the_order_they_occurred()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(migrated: false));
        await using var db = data.Open();
        var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var chain = migrations.Single(m => m.EndsWith("_AddAuditChain", StringComparison.Ordinal));
        await migrator.MigrateAsync(migrations[migrations.IndexOf(chain) - 1]);
        // Written with the schema as it was, in another order than they occurred; two at the same instant.
        var now = DateTimeOffset.UtcNow;
        var at = new[] { now.AddMinutes(-1), now.AddMinutes(-3), now.AddMinutes(-2), now.AddMinutes(-2) };
        var ids = at.Select(_ => Guid.NewGuid()).ToArray();
        for (var i = 0; i < at.Length; i++)
        {
            await db.Database.ExecuteSqlAsync($$"""
                INSERT INTO audit_events (id, occurred_at, action, outcome, details)
                VALUES ({{ids[i]}}, {{at[i]}}, 'token.issued', 'success', '{}')
                """);
        }

        await migrator.MigrateAsync(chain);
        await DatabaseMigrator.MigrateAsync(db, CancellationToken.None); // and whatever came after it, as a deployment would
        await using (var later = data.Open())
        {
            later.AuditEvents.Add(NewEvent());
            await later.SaveChangesAsync();
        }

        await using var check = data.Open();
        var order = await check.AuditEvents.OrderBy(e => e.Sequence).Select(e => e.Id).ToListAsync();
        var expected = at.Zip(ids).OrderBy(p => p.First).ThenBy(p => p.Second).Select(p => p.Second).ToList();
        Assert.Equal(expected, order.Take(4));
        var verification = await VerifyAsync(data);
        Assert.True(verification.Intact, verification.Fault?.Reason);
        Assert.Equal(5, verification.Checked);
    }
}
