using System.Data;
using System.Globalization;
using Npgsql;

namespace AgentIdp.Core.Audit;

/// <summary>How the audit chain fails to hold at a row.</summary>
public enum AuditChainBreak
{
    /// <summary>Seqs are missing before the row: rows were deleted.</summary>
    Missing,
    /// <summary>The row's prev_hash is not the hash of the row before it: rows were reordered, inserted or replaced, or the previous row's hash rewritten.</summary>
    Unlinked,
    /// <summary>The row's contents do not hash to its hash: it was changed after it was written.</summary>
    Edited,
    /// <summary>The row's hash is not the one recorded for its seq outside the database: the chain was rewritten up to there.</summary>
    AnchorMismatch,
    /// <summary>The head does not name the last row: the newest rows were deleted, or the head was moved.</summary>
    HeadMismatch,
}

/// <summary>A seq and the hash an operator recorded for it outside the database, as <c>SEQ:HASH</c> (hex).</summary>
public sealed record AuditChainAnchor(long Sequence, byte[] Hash)
{
    public static bool TryParse(string text, out AuditChainAnchor anchor)
    {
        anchor = null!;
        var parts = text.Split(':');
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) || sequence < 1
            || parts[1].Length != AuditChain.HashLength * 2 || !parts[1].All(char.IsAsciiHexDigit))
        {
            return false;
        }
        anchor = new AuditChainAnchor(sequence, Convert.FromHexString(parts[1]));
        return true;
    }

    public override string ToString() => $"{Sequence}:{AuditChain.ToHex(Hash)}";
}

/// <summary>Where the chain first fails to hold: the row (seq and event id, when there is a row to name) and why.</summary>
public sealed record AuditChainFault(AuditChainBreak Break, long? Sequence, Guid? EventId, string Reason);

/// <summary>What a verification found: the events checked (before the fault, if any) and the head of the chain.</summary>
public sealed record AuditChainVerification(long Checked, AuditChainAnchor Head, AuditChainFault? Fault)
{
    public bool Intact => Fault is null;
}

/// <summary>
/// Walks the audit chain in seq order and recomputes every link with <see cref="AuditChain"/>, never with a function
/// stored in the database: each row must follow the one before it (seq + 1, prev_hash = its hash), hash to its own
/// hash, and match the anchors given; the head must name the last row. Rows are streamed, one snapshot for all.
/// </summary>
public sealed class AuditChainVerifier(NpgsqlDataSource dataSource)
{
    public async Task<AuditChainVerification> VerifyAsync(IReadOnlyCollection<AuditChainAnchor> anchors, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The head and every row from one snapshot, so that writers carrying on meanwhile are not mistaken for tampering.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
        }
        var head = await ReadHeadAsync(connection, transaction, cancellationToken);
        var anchored = anchors.ToLookup(a => a.Sequence, a => a.Hash);

        await using var rows = new NpgsqlCommand(
            """
            SELECT seq, id, occurred_at, action, outcome, agent_id, actor, ip::text, details::text, prev_hash, hash
            FROM audit_events ORDER BY seq
            """, connection, transaction)
        { CommandTimeout = 0 }; // a long chain takes as long as it takes; Ctrl-C stops it
        await using var reader = await rows.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        var last = new AuditChainAnchor(0, AuditChain.Genesis.ToArray());
        Guid? lastId = null;
        long count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = ReadRow(reader);
            var fault = Check(row, last, anchored);
            if (fault is not null)
            {
                return new AuditChainVerification(count, head ?? last, fault);
            }
            last = new AuditChainAnchor(row.Entry.Sequence, row.Hash!);
            lastId = row.Entry.Id;
            count++;
        }

        if (anchored.Select(a => a.Key).Where(seq => seq > last.Sequence).Order().FirstOrDefault() is var beyond and > 0)
        {
            return new AuditChainVerification(count, head ?? last, new AuditChainFault(AuditChainBreak.AnchorMismatch, last.Sequence, lastId,
                $"the chain ends at seq {last.Sequence}, but seq {beyond} was recorded: the events after seq {last.Sequence} were deleted"));
        }
        if (head is null)
        {
            return new AuditChainVerification(count, last, new AuditChainFault(AuditChainBreak.HeadMismatch, null, null,
                "audit_chain_head has no row: the head of the chain was removed"));
        }
        if (head.Sequence != last.Sequence || !head.Hash.AsSpan().SequenceEqual(last.Hash))
        {
            var reason = count == 0
                ? $"the head of the chain names seq {head.Sequence}, but there is no event: every event was deleted"
                : head.Sequence > last.Sequence
                ? $"the head of the chain names seq {head.Sequence}, but the last event is seq {last.Sequence}: the newest events were deleted"
                : head.Sequence < last.Sequence
                    ? $"the head of the chain names seq {head.Sequence}, but the last event is seq {last.Sequence}: the head was moved back"
                    : $"the head of the chain names seq {head.Sequence} with hash {AuditChain.ToHex(head.Hash)}, not this event's hash: the last event or the head was rewritten";
            return new AuditChainVerification(count, head, new AuditChainFault(AuditChainBreak.HeadMismatch,
                lastId is null ? null : last.Sequence, lastId, reason));
        }
        return new AuditChainVerification(count, head, null);
    }

    private sealed record Row(AuditChainEntry Entry, byte[]? PreviousHash, byte[]? Hash);

    private static AuditChainFault? Check(Row row, AuditChainAnchor previous, ILookup<long, byte[]> anchored)
    {
        var (entry, previousHash, hash) = row;
        var expected = previous.Sequence + 1;
        if (entry.Sequence != expected)
        {
            return Fault(AuditChainBreak.Missing, entry.Sequence > expected
                ? entry.Sequence == expected + 1
                    ? $"seq {expected} is missing before it: an event was deleted"
                    : $"seqs {expected} to {entry.Sequence - 1} are missing before it: events were deleted"
                : $"seq {expected} was expected here: the seqs were rewritten");
        }
        if (previousHash is null || !previousHash.AsSpan().SequenceEqual(previous.Hash))
        {
            return Fault(AuditChainBreak.Unlinked, previous.Sequence == 0
                ? "its prev_hash is not the genesis hash (32 zero bytes) that the first event links to: events were reordered or replaced"
                : $"its prev_hash is not the hash of seq {previous.Sequence}: events were reordered, inserted or replaced, or the hash of seq {previous.Sequence} was rewritten");
        }
        if (hash is null || !hash.AsSpan().SequenceEqual(AuditChain.HashOf(previousHash, entry)))
        {
            return Fault(AuditChainBreak.Edited, "its contents do not match its hash: the event was changed after it was written");
        }
        if (anchored[entry.Sequence].FirstOrDefault(recorded => !recorded.AsSpan().SequenceEqual(hash)) is { } recorded)
        {
            return Fault(AuditChainBreak.AnchorMismatch,
                $"its hash is {AuditChain.ToHex(hash)}, but {AuditChain.ToHex(recorded)} was recorded for seq {entry.Sequence}: the chain was rewritten up to here");
        }
        return null;

        AuditChainFault Fault(AuditChainBreak kind, string reason) => new(kind, entry.Sequence, entry.Id, reason);
    }

    private static Row ReadRow(NpgsqlDataReader reader)
    {
        // In column order: the reader streams each row (SequentialAccess). A constraint dropped by a tamperer may
        // leave a NULL where none belongs; it is reported as a broken link, never as a crash.
        var sequence = reader.IsDBNull(0) ? 0 : reader.GetInt64(0);
        var id = reader.IsDBNull(1) ? Guid.Empty : reader.GetGuid(1);
        var occurredAt = reader.IsDBNull(2) ? DateTimeOffset.UnixEpoch : reader.GetFieldValue<DateTimeOffset>(2);
        var action = reader.IsDBNull(3) ? null : reader.GetString(3);
        var outcome = reader.IsDBNull(4) ? null : reader.GetString(4);
        Guid? agentId = reader.IsDBNull(5) ? null : reader.GetGuid(5);
        var actor = reader.IsDBNull(6) ? null : reader.GetString(6);
        var ip = reader.IsDBNull(7) ? null : reader.GetString(7);
        var details = reader.IsDBNull(8) ? null : reader.GetString(8);
        var previousHash = reader.IsDBNull(9) ? null : reader.GetFieldValue<byte[]>(9);
        var hash = reader.IsDBNull(10) ? null : reader.GetFieldValue<byte[]>(10);
        return new Row(new AuditChainEntry(sequence, id, occurredAt, action!, outcome!, agentId, actor, ip, details!), previousHash, hash);
    }

    private static async Task<AuditChainAnchor?> ReadHeadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT seq, hash FROM audit_chain_head", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AuditChainAnchor(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1))
            : null;
    }
}
