using AgentIdp.Core.Credentials;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace AgentIdp.Core.Lockout;

/// <summary>
/// Counts failed client authentications per client id and per source in <c>auth_lockouts</c>, by PostgreSQL's
/// clock, so that every replica shares one count and one lock and no replica's clock can shorten a lock.
/// Whether a key is locked is read with the credential, in <see cref="CredentialLookup"/>'s one query.
/// </summary>
public sealed class FailedAuthentications(CredentialLookup.DataSource source, IOptions<LockoutOptions> options)
{
    /// <summary>Transaction-level advisory lock of the purge ("AIDPLOCK"): replicas purging at once take turns, and the later one skips.</summary>
    private const long PurgeLockKey = 0x4149_4450_4C4F_434B;

    /// <summary>
    /// One failure, counted against each key in one atomic upsert. A failure continues its key's count while the
    /// window that began with the key's first failure is open and no lock has come and gone since; otherwise it
    /// starts a new count. Reaching the maximum locks the key. A key locked already is left as it is (its lock is
    /// neither extended nor counted), so only the failure that begins a lock gets its row back: that is how
    /// exactly one of the replicas counting at once learns that the lock began.
    /// </summary>
    private const string CountSql = """
        INSERT INTO auth_lockouts AS l (scope, key, failures, window_started_at, locked_until)
        SELECT k.scope, k.key, 1, now(), CASE WHEN k.max_failures <= 1 THEN now() + $5 END
        FROM (VALUES ('client', $1::text, $3::integer), ('source', $2::text, $4::integer)) AS k(scope, key, max_failures)
        WHERE k.key IS NOT NULL
        ON CONFLICT (scope, key) DO UPDATE SET
            failures = CASE WHEN l.locked_until IS NULL AND l.window_started_at > now() - $6 THEN l.failures + 1 ELSE 1 END,
            window_started_at = CASE WHEN l.locked_until IS NULL AND l.window_started_at > now() - $6 THEN l.window_started_at ELSE now() END,
            locked_until = CASE
                WHEN (CASE WHEN l.locked_until IS NULL AND l.window_started_at > now() - $6 THEN l.failures + 1 ELSE 1 END)
                     >= (CASE l.scope WHEN 'client' THEN $3 ELSE $4 END)
                THEN now() + $5 END
        WHERE l.locked_until IS NULL OR l.locked_until <= now()
        RETURNING l.scope, l.key, l.failures, l.locked_until
        """;

    /// <summary>A client id's count, once its owner has authenticated; a lock that began meanwhile stays.</summary>
    private const string ForgetClientSql = """
        DELETE FROM auth_lockouts WHERE scope = 'client' AND key = $1 AND (locked_until IS NULL OR locked_until <= now())
        """;

    /// <summary>Rows that no longer count: a lock that has ended (the next failure starts over anyway), or an unlocked window that has closed.</summary>
    private const string PurgeSql = """
        DELETE FROM auth_lockouts
        WHERE CASE WHEN locked_until IS NULL THEN window_started_at <= now() - $1 ELSE locked_until <= now() END
        """;

    /// <summary>Counts one failure against <paramref name="keys"/>; the locks it began, if any.</summary>
    public async Task<IReadOnlyList<LockBegun>> CountAsync(LockoutKeys keys, CancellationToken cancellationToken)
    {
        if (keys.IsEmpty)
        {
            return [];
        }
        var settings = options.Value;
        await using var command = source.Multiplexed.CreateCommand(CountSql);
        command.Parameters.Add(Text(keys.Client));
        command.Parameters.Add(Text(keys.Source));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = settings.ClientMaxFailures });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = settings.SourceMaxFailures });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = settings.Duration });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = settings.Window });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        List<LockBegun>? begun = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.IsDBNull(3))
            {
                (begun ??= []).Add(new LockBegun(
                    reader.GetString(0) == AuthLockout.ClientScope ? LockoutScope.Client : LockoutScope.Source,
                    reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3)));
            }
        }
        return begun ?? [];
    }

    /// <summary>Forgets a client id's failures: its owner has just authenticated.</summary>
    public async Task ForgetClientAsync(string clientKey, CancellationToken cancellationToken)
    {
        await using var command = source.Multiplexed.CreateCommand(ForgetClientSql);
        command.Parameters.Add(Text(clientKey));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes the rows that no longer count; 0 when another replica is purging at this moment.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await source.Multiplexed.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_xact_lock({PurgeLockKey})", connection, transaction))
        {
            if (await take.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return 0;
            }
        }
        await using var purge = new NpgsqlCommand(PurgeSql, connection, transaction)
        {
            Parameters = { new NpgsqlParameter<TimeSpan> { TypedValue = options.Value.Window } },
        };
        var purged = await purge.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return purged;
    }

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };
}
