using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AgentIdp.Core.Audit;

/// <summary>An audit event as the chain hashes it: the columns of its row, as PostgreSQL stores them.</summary>
/// <param name="Ip">The address in PostgreSQL's <c>ip::text</c> form: address and prefix length, <c>198.51.100.23/32</c>.</param>
/// <param name="Details">The object in PostgreSQL's <c>details::text</c> form: jsonb's normalized text.</param>
public sealed record AuditChainEntry(
    long Sequence, Guid Id, DateTimeOffset OccurredAt, string Action, string Outcome, Guid? AgentId, string? Actor, string? Ip, string Details);

/// <summary>
/// The audit chain: every event's hash is SHA-256 over the hash of the event before it and the event's canonical
/// bytes, so changing, removing, inserting or reordering a row breaks every link after it. PostgreSQL computes it
/// when a row is inserted (the <c>audit_events_chain</c> trigger of the AddAuditChain migration); this is the same
/// computation written a second time, for <c>agentidp audit verify</c>, which must not trust a function kept in the
/// database it checks. docs/operations.md spells the encoding out for anyone who checks with a tool of their own.
/// </summary>
public static class AuditChain
{
    public const int HashLength = 32;

    /// <summary>The hash before the first event (and the head of an empty chain): 32 zero bytes.</summary>
    public static ReadOnlySpan<byte> Genesis => new byte[HashLength];

    /// <summary>SHA-256(<paramref name="previousHash"/> || the entry's canonical bytes).</summary>
    public static byte[] HashOf(ReadOnlySpan<byte> previousHash, AuditChainEntry entry)
    {
        var canonical = new ArrayBufferWriter<byte>(256);
        canonical.Write(previousHash);
        WriteCanonical(canonical, entry);
        return SHA256.HashData(canonical.WrittenSpan);
    }

    /// <summary>
    /// Nine fields, in this order, each as a 4-byte big-endian length and that many bytes, or the length -1 and
    /// no bytes for NULL: seq (8 bytes, big-endian), id (16 bytes, RFC 9562 order), occurred_at (8 bytes,
    /// big-endian microseconds since 1970-01-01T00:00:00Z), then action, outcome, agent_id (16 bytes), actor, ip
    /// and details, each text as UTF-8.
    /// </summary>
    public static void WriteCanonical(IBufferWriter<byte> output, AuditChainEntry entry)
    {
        Span<byte> scratch = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(scratch, entry.Sequence);
        WriteField(output, scratch[..8]);
        entry.Id.TryWriteBytes(scratch, bigEndian: true, out _);
        WriteField(output, scratch[..16]);
        BinaryPrimitives.WriteInt64BigEndian(scratch, (entry.OccurredAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
        WriteField(output, scratch[..8]);
        WriteText(output, entry.Action);
        WriteText(output, entry.Outcome);
        if (entry.AgentId is { } agentId)
        {
            agentId.TryWriteBytes(scratch, bigEndian: true, out _);
            WriteField(output, scratch[..16]);
        }
        else
        {
            WriteNull(output);
        }
        WriteText(output, entry.Actor);
        WriteText(output, entry.Ip);
        WriteText(output, entry.Details);
    }

    public static string ToHex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);

    private static void WriteText(IBufferWriter<byte> output, string? text)
    {
        if (text is null)
        {
            WriteNull(output);
            return;
        }
        WriteField(output, Encoding.UTF8.GetBytes(text));
    }

    private static void WriteField(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteInt32BigEndian(output.GetSpan(4), value.Length);
        output.Advance(4);
        output.Write(value);
    }

    private static void WriteNull(IBufferWriter<byte> output)
    {
        BinaryPrimitives.WriteInt32BigEndian(output.GetSpan(4), -1);
        output.Advance(4);
    }
}
