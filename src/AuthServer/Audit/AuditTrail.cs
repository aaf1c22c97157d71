using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace AuthServer.Audit;

/// <summary>
/// The AuthServer's audit events (token.issued, token.introspected, token.revoked, auth.failed) and
/// credentials' last use, queued off the request path and written to PostgreSQL together every
/// <see cref="FlushInterval"/>, with one binary COPY per batch: a token costs its row and nothing else. PostgreSQL
/// chains each row into the audit chain as the COPY inserts it (AuditChain).
/// The queue is bounded: if PostgreSQL cannot keep up, events are dropped and counted in the log rather
/// than letting token requests wait on the audit log. Whatever is queued at shutdown is written before
/// the process ends. Failed authentications are aggregated: see <see cref="RecordAuthFailure"/>.
/// </summary>
public sealed partial class AuditTrail(NpgsqlDataSource dataSource, ILogger<AuditTrail> logger, AgentIdpMetrics metrics) : BackgroundService
{
    private const int Capacity = 100_000;
    private const int BatchSize = 5_000;
    /// <summary>How long events gather before they are written: many rows per round trip under load, little delay when idle.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private readonly Channel<AuditEvent> _events = Channel.CreateBounded<AuditEvent>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _credentialUse = new();
    private readonly ConcurrentDictionary<AuthFailureKey, RepeatedFailures> _failures = new();
    private long _dropped;

    /// <summary>Identical failed authentications within this window become one row with a count.</summary>
    public static readonly TimeSpan AuthFailureWindow = TimeSpan.FromMinutes(1);
    /// <summary>Distinct (source, client, reason) the window tracks at most; a failure beyond them is dropped and counted.</summary>
    private const int MaxTrackedFailures = 10_000;

    public void Record(AuditEvent auditEvent)
    {
        if (!_events.Writer.TryWrite(auditEvent))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        metrics.AuditEventsQueued(1);
    }

    /// <summary>
    /// A failed client authentication. The first of its kind (source address, claimed client id, endpoint,
    /// reason) in <see cref="AuthFailureWindow"/> is recorded at once; the identical ones after it become one
    /// row when the window closes, with their count. So a flood of failures costs a few rows a minute, not
    /// one per request. The claimed client id is not verified: it is recorded as <c>claimedClientId</c>, never
    /// as the actor or the agent the event is about.
    /// </summary>
    public void RecordAuthFailure(string endpoint, string reason, Guid? claimedClientId, bool clientIdMalformed, IPAddress? ip, DateTimeOffset at)
    {
        var key = new AuthFailureKey(ip, claimedClientId, clientIdMalformed, endpoint, reason);
        while (true)
        {
            if (_failures.TryGetValue(key, out var repeats))
            {
                if (repeats.TryAdd(at))
                {
                    return;
                }
                _failures.TryRemove(new KeyValuePair<AuthFailureKey, RepeatedFailures>(key, repeats)); // its window just closed
                continue;
            }
            if (_failures.Count >= MaxTrackedFailures)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            if (_failures.TryAdd(key, new RepeatedFailures(at)))
            {
                Record(key.ToEvent(at, repeated: null));
                return;
            }
        }
    }

    /// <summary>The windows that have closed by <paramref name="now"/> (all, when the process stops): one event each for their repeats.</summary>
    private void CloseFailureWindows(DateTimeOffset now, bool all)
    {
        foreach (var (key, repeats) in _failures)
        {
            if (!all && now - repeats.Since < AuthFailureWindow)
            {
                continue;
            }
            var closed = repeats.Close(); // from here a failure of this kind opens a new window
            _failures.TryRemove(new KeyValuePair<AuthFailureKey, RepeatedFailures>(key, repeats));
            if (closed.Count > 0)
            {
                Record(key.ToEvent(closed.Last, closed));
            }
        }
    }

    public void RecordCredentialUse(Guid credentialId, DateTimeOffset usedAt) =>
        _credentialUse.AddOrUpdate(credentialId, usedAt, (_, previous) => previous > usedAt ? previous : usedAt);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEvent>(BatchSize);
        try
        {
            while (await _events.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(FlushInterval, stoppingToken); // wall-clock pacing, whatever clock the events are dated by
                CloseFailureWindows(DateTimeOffset.UtcNow, all: false);
                await FlushAsync(batch, CancellationToken.None); // a batch being written when the host stops is finished, not abandoned
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Shutting down: write what is left, as far as the host's shutdown timeout allows.
        CloseFailureWindows(DateTimeOffset.UtcNow, all: true);
        await FlushAsync(batch, CancellationToken.None);
    }

    private async Task FlushAsync(List<AuditEvent> batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < BatchSize && _events.Reader.TryRead(out var auditEvent))
            {
                batch.Add(auditEvent);
            }
            var uses = _credentialUse.ToArray();
            foreach (var (id, usedAt) in uses)
            {
                _credentialUse.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(id, usedAt));
            }
            if (batch.Count == 0 && uses.Length == 0)
            {
                break;
            }
            await WriteAsync(batch, uses, cancellationToken);
        }
        if (Interlocked.Exchange(ref _dropped, 0) is var dropped and > 0)
        {
            metrics.AuditEventsDropped(dropped);
            LogDropped(dropped);
        }
    }

    private async Task WriteAsync(List<AuditEvent> batch, KeyValuePair<Guid, DateTimeOffset>[] uses, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                // Two transactions, not one: the COPY waits for the audit chain's head, which an admin API change holds
                // from its event until it commits and may, meanwhile, update a credential. Holding that credential's row
                // (its last use) while waiting for the head would deadlock with it.
                await RecordUsesAsync(connection, uses, cancellationToken);
                await CopyAsync(connection, batch, cancellationToken);
                metrics.AuditEventsWritten(batch.Count);
                return;
            }
            catch (PostgresException e) when (attempt == 1 && !e.IsTransient)
            {
                // PostgreSQL refused the batch: write the events one by one so that one bad event cannot sink the
                // others, and the credentials' last use on its own.
                LogWriteRetry(e, batch.Count, attempt);
                await WriteUsesAloneAsync(uses, cancellationToken);
                await WriteOneByOneAsync(batch, cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < 3)
            {
                LogWriteRetry(e, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                metrics.AuditEventsDropped(batch.Count);
                LogWriteFailed(e, batch.Count);
                return;
            }
        }
    }

    /// <summary>The credentials' last use, when the batch it came with was refused; lost (and logged) if refused too.</summary>
    private async Task WriteUsesAloneAsync(KeyValuePair<Guid, DateTimeOffset>[] uses, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await RecordUsesAsync(connection, uses, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUsesLost(e, uses.Length);
        }
    }

    private async Task WriteOneByOneAsync(List<AuditEvent> batch, CancellationToken cancellationToken)
    {
        var lost = 0;
        foreach (var auditEvent in batch)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await CopyAsync(connection, [auditEvent], cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lost++; // this event refused, or PostgreSQL gone: counted, and the writer carries on
            }
        }
        metrics.AuditEventsWritten(batch.Count - lost);
        if (lost > 0)
        {
            metrics.AuditEventsDropped(lost);
            LogWriteFailed(null, lost);
        }
    }

    private static async Task CopyAsync(NpgsqlConnection connection, List<AuditEvent> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY audit_events (id, occurred_at, action, outcome, agent_id, actor, ip, details) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var auditEvent in batch)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(auditEvent.Id, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(auditEvent.OccurredAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await copy.WriteAsync(auditEvent.Action, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(auditEvent.Outcome == AuditOutcome.Success ? "success" : "failure", NpgsqlDbType.Text, cancellationToken);
            await (auditEvent.AgentId is { } agentId ? copy.WriteAsync(agentId, NpgsqlDbType.Uuid, cancellationToken) : copy.WriteNullAsync(cancellationToken));
            await (auditEvent.Actor is { } actor ? copy.WriteAsync(actor, NpgsqlDbType.Varchar, cancellationToken) : copy.WriteNullAsync(cancellationToken));
            await (auditEvent.Ip is { } ip ? copy.WriteAsync(ip, NpgsqlDbType.Inet, cancellationToken) : copy.WriteNullAsync(cancellationToken));
            await copy.WriteAsync(auditEvent.Details, NpgsqlDbType.Jsonb, cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    private static async Task RecordUsesAsync(NpgsqlConnection connection, KeyValuePair<Guid, DateTimeOffset>[] uses, CancellationToken cancellationToken)
    {
        if (uses.Length == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(
            """
            UPDATE credentials AS c SET last_used_at = GREATEST(c.last_used_at, u.used_at)
            FROM unnest($1, $2) AS u(id, used_at) WHERE c.id = u.id
            """, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid[]> { TypedValue = uses.Select(u => u.Key).ToArray() },
                new NpgsqlParameter<DateTimeOffset[]> { TypedValue = uses.Select(u => u.Value).ToArray() },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit queue was full: {Dropped} audit events were dropped.")]
    private partial void LogDropped(long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} audit events failed (attempt {Attempt}); retrying.")]
    private partial void LogWriteRetry(Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the last use of {Count} credentials failed; it is lost.")]
    private partial void LogUsesLost(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} audit events failed; they are lost.")]
    private partial void LogWriteFailed(Exception? exception, int count);
}

/// <summary>What makes two failed authentications the same, for aggregation.</summary>
internal readonly record struct AuthFailureKey(IPAddress? Ip, Guid? ClaimedClientId, bool ClientIdMalformed, string Endpoint, string Reason)
{
    public AuditEvent ToEvent(DateTimeOffset at, RepeatedFailures.Closed? repeated) => AuditEvent.Create(
        AuditActions.AuthFailed, AuditOutcome.Failure, at, ip: Ip,
        details: JsonSerializer.Serialize(new
        {
            endpoint = Endpoint,
            reason = Reason,
            claimedClientId = ClaimedClientId,
            clientIdMalformed = ClientIdMalformed,
            repeated = repeated?.Count,
            firstRepeatAt = repeated?.First,
            lastRepeatAt = repeated?.Last,
        }, Json));

    private static readonly JsonSerializerOptions Json = new(AuditEvent.DetailsJson)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>The failures seen again within a window, after its first.</summary>
internal sealed class RepeatedFailures(DateTimeOffset since)
{
    private readonly Lock _sync = new();
    private int _count;
    private DateTimeOffset _first;
    private DateTimeOffset _last;

    public sealed record Closed(int Count, DateTimeOffset First, DateTimeOffset Last);

    private bool _closed;

    public DateTimeOffset Since { get; } = since;

    /// <summary>Counts one more; false once the window has closed (the caller starts a new one).</summary>
    public bool TryAdd(DateTimeOffset at)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return false;
            }
            _first = _count == 0 ? at : _first;
            _last = at;
            _count++;
            return true;
        }
    }

    public Closed Close()
    {
        lock (_sync)
        {
            _closed = true;
            return new Closed(_count, _first, _last);
        }
    }
}

