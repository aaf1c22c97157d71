using AgentIdp.Core.Agents;
using Npgsql;

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

/// <summary>
/// The token path's one query: a credential and its agent by the credential's primary key, on every
/// token request. It runs on a data source of its own with Npgsql's multiplexing, which sends the
/// queries of concurrent requests down a few connections together and reads their answers in one go,
/// and automatic preparation, so each connection parses and plans the statement once.
/// </summary>
public sealed class CredentialLookup(CredentialLookup.DataSource source)
{
    private const string Sql = """
        SELECT c.agent_id, c.secret_hash, c.vault_path, c.vault_version, c.secret_version, c.status, c.expires_at,
               a.status, a.security_stamp, a.capabilities
        FROM credentials AS c JOIN agents AS a ON a.id = c.agent_id
        WHERE c.id = $1
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

    public async Task<CredentialRow?> FindAsync(Guid credentialId, CancellationToken cancellationToken)
    {
        await using var command = source.Multiplexed.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = credentialId });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new CredentialRow(
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
    }

    private static AgentStatus ParseAgentStatus(string status) => status switch
    {
        "active" => AgentStatus.Active,
        "suspended" => AgentStatus.Suspended,
        _ => AgentStatus.Decommissioned,
    };
}
