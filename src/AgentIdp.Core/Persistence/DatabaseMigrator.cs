using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AgentIdp.Core.Persistence;

/// <summary>Applies pending migrations, one process at a time.</summary>
public static class DatabaseMigrator
{
    /// <summary>Session-level advisory lock key shared by every AgentIdP process that migrates ("AIDPMIGR").</summary>
    private const long MigrationLockKey = 0x4149_4450_4D49_4752;

    /// <summary>
    /// Applies every pending migration. Two processes that start at once (two Kubernetes jobs, a job and the
    /// dev script) serialize on a PostgreSQL advisory lock: the second waits, then finds nothing left to do.
    /// Returns the migrations it applied.
    /// </summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(AgentIdpDbContext db, CancellationToken cancellationToken)
    {
        var connectionString = db.Database.GetConnectionString()
            ?? throw new InvalidOperationException("The database context has no connection string.");
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await using (var acquire = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", lockConnection))
        {
            acquire.Parameters.AddWithValue("key", MigrationLockKey);
            await acquire.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                // A migration may rewrite a large table (AddAuditChain hashes every stored audit event): no command
                // timeout, which would roll it back half-way through every time; the operator stops it with Ctrl-C.
                var timeout = db.Database.GetCommandTimeout();
                db.Database.SetCommandTimeout(0);
                try
                {
                    await db.Database.MigrateAsync(cancellationToken);
                }
                finally
                {
                    db.Database.SetCommandTimeout(timeout);
                }
            }
            return pending;
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", lockConnection);
            release.Parameters.AddWithValue("key", MigrationLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
