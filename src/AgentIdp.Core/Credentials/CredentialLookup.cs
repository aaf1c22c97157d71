using AgentIdp.Core.Agents;
using AgentIdp.Core.Lockout;
using Npgsql;
using NpgsqlTypes;

namespace AgentIdp.Core.Credentials;

/// <summary>What authenticating with a credential needs to know of it and of its agent.</summary>
public sealed record CredentialRow(
    Guid AgentId,
    string? SecretHash,
    string? VaultPath,
    int? VaultVersion,
    int SecretVersion,
    CredentialStatus Status,
    DateTimeOffset? ExpiresAt,
    AgentStatus AgentStatus,
    int SecurityStamp,
    string[] Capabilities);

/// <summary>What the token path's one query found: the credential, if the secret named one that exists, and the locks.</summary>
public readonly record struct CredentialLookupResult(CredentialRow? Credential, LockoutState Lockout);

/// <summary>
/// The token path's one query: a credential and its agent by the credential's primary key, on every
/// token request, with whether the claimed client id or the caller's source is locked out (and the client
/// id's failures so far) read in the same round trip. It runs on a data source of its own with Npgsql's
/// multiplexing, which sends the queries of concurrent requests down a few connections together and reads
/// their answers in one go, and automatic preparation, so each connection parses and plans the statement once.
/// </summary>
public sealed class CredentialLookup(CredentialLookup.DataSource source)
{
    /// <summary>Always one row, so that a lock is seen whether or not the credential exists. Locks are read by PostgreSQL's clock.</summary>
    internal const string Sql = """
        SELECT c.agent_id, c.secret_hash, c.vault_path, c.vault_version, c.secret_version, c.status, c.expires_at,
               a.status, a.security_stamp, a.capabilities,
               lc.failures, lc.locked_until > now(), ls.locked_until > now()
        FROM (VALUES (1)) AS one
        LEFT JOIN (credentials AS c JOIN agents AS a ON a.id = c.agent_id) ON c.id = $1
        LEFT JOIN auth_lockouts AS lc ON lc.scope = 'client' AND lc.key = $2
        LEFT JOIN auth_lockouts AS ls ON ls.scope = 'source' AND ls.key = $3
        """;

    /// <summary>The multiplexing data source, on DATABASE_URL.</summary>
    public sealed class DataSource(string connectionString) : IDisposable
    {
        /// <summary>Multiplexed queries share connections: a few carry thousands of lookups a second.</summary>
        private const int MaxConnections = 16;

        internal NpgsqlDataSource Multiplexed { get; } = Build(connectionString);

        private static NpgsqlDataSource Build(string connectionString)
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.ConnectionStringBuilder.Multiplexing = true;
            builder.ConnectionStringBuilder.MaxAutoPrepare = 8;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            builder.ConnectionStringBuilder.MaxPoolSize = Math.Min(builder.ConnectionStringBuilder.MaxPoolSize, MaxConnections);
            builder.ConnectionStringBuilder.MinPoolSize = Math.Min(builder.ConnectionStringBuilder.MinPoolSize, MaxConnections);
            return builder.Build();
        }

        public void Dispose() => Multiplexed.Dispose();
    }

    /// <summary>The credential <paramref name="credentialId"/> names (none when null), and the locks on <paramref name="lockout"/>'s keys.</summary>
    public async Task<CredentialLookupResult> FindAsync(Guid? credentialId, LockoutKeys lockout, CancellationToken cancellationToken)
    {
        await using var command = source.Multiplexed.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = (object?)credentialId ?? DBNull.Value });
        command.Parameters.Add(Text(lockout.Client));
        command.Parameters.Add(Text(lockout.Source));
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var state = new LockoutState(
            ClientLocked: !reader.IsDBNull(11) && reader.GetBoolean(11),
            SourceLocked: !reader.IsDBNull(12) && reader.GetBoolean(12),
            ClientFailures: reader.IsDBNull(10) ? 0 : reader.GetInt32(10));
        return new CredentialLookupResult(reader.IsDBNull(0) ? null : ReadCredential(reader), state);
    }

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static CredentialRow ReadCredential(NpgsqlDataReader reader) =>
        new(
            AgentId: reader.GetGuid(0),
            SecretHash: reader.IsDBNull(1) ? null : reader.GetString(1),
            VaultPath: reader.IsDBNull(2) ? null : reader.GetString(2),
            VaultVersion: reader.IsDBNull(3) ? null : reader.GetInt32(3),
            SecretVersion: reader.GetInt32(4),
            Status: reader.GetString(5) == "active" ? CredentialStatus.Active : CredentialStatus.Revoked,
            ExpiresAt: reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
            AgentStatus: ParseAgentStatus(reader.GetString(7)),
            SecurityStamp: reader.GetInt32(8),
            Capabilities: reader.GetFieldValue<string[]>(9));

    private static AgentStatus ParseAgentStatus(string status) => status switch
    {
        "active" => AgentStatus.Active,
        "suspended" => AgentStatus.Suspended,
        _ => AgentStatus.Decommissioned,
    };
}
