using System.Data.Common;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Vault;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentIdp.Core.Credentials;

/// <summary>
/// The queue of Vault paths whose secret must be destroyed unless an active credential names it
/// (<c>vault_cleanup_queue</c>), and the pass that settles it. A path is queued, and committed, before a
/// secret is written there; the transaction that commits the credential takes it off again, matching the
/// time it was queued, so a request only ever takes off its own entry. Whatever a failure or a crash
/// leaves queued, <see cref="RunAsync"/> destroys once it is older than a grace period.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A queue in the database (vault_cleanup_queue), not a collection type.")]
public sealed partial class VaultCleanupQueue(AgentIdpDbContext db, VaultSecretStore vault, ILogger<VaultCleanupQueue> logger)
{
    /// <summary>Queues a path on a connection of its own, so that it is committed even while the caller's transaction is open. Returns the queue time, which identifies this entry.</summary>
    public async Task<DateTimeOffset> EnqueueAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "INSERT INTO vault_cleanup_queue (path, queued_at) VALUES (@path, clock_timestamp()) " +
            "ON CONFLICT (path) DO UPDATE SET queued_at = clock_timestamp() RETURNING queued_at", connection);
        command.Parameters.AddWithValue("path", path);
        return new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync(cancellationToken))!, TimeSpan.Zero);
    }

    /// <summary>Queues a path inside the caller's transaction (a revocation: the secret goes once the revocation commits).</summary>
    public Task EnqueueWithinAsync(string path, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync(
            $"INSERT INTO vault_cleanup_queue (path, queued_at) VALUES ({path}, clock_timestamp()) ON CONFLICT (path) DO UPDATE SET queued_at = clock_timestamp()",
            cancellationToken);

    /// <summary>Inside the transaction that commits the credential: takes this request's entry off the queue. False if the cleanup pass took it first.</summary>
    public async Task<bool> TakeWithinAsync(string path, DateTimeOffset queuedAt, CancellationToken cancellationToken) =>
        await db.VaultCleanupQueue.Where(e => e.Path == path && e.QueuedAt == queuedAt).ExecuteDeleteAsync(cancellationToken) == 1;

    /// <summary>
    /// Settles one entry now: destroys the secret unless an active credential names the path, then takes
    /// the entry off. With <paramref name="queuedAt"/>, only that entry: if another request queued the path
    /// since, it is theirs to settle. Failures are left to the cleanup pass.
    /// </summary>
    public async Task SettleAsync(string path, DateTimeOffset? queuedAt, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // SKIP LOCKED: an entry locked by a transaction still in flight (this request's own, if it failed to commit) is the cleanup pass's to settle.
            await using var select = new NpgsqlCommand(
                "SELECT queued_at FROM vault_cleanup_queue WHERE path = @path FOR UPDATE SKIP LOCKED", connection, transaction);
            select.Parameters.AddWithValue("path", path);
            if (await select.ExecuteScalarAsync(cancellationToken) is not DateTime current ||
                (queuedAt is { } mine && new DateTimeOffset(current, TimeSpan.Zero) != mine))
            {
                return;
            }
            await SettleLockedAsync(connection, transaction, path, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is VaultException or DbException)
        {
            LogLeftForCleanup(path, e.Message);
        }
    }

    /// <summary>
    /// The cleanup pass: settles every entry queued longer ago than <paramref name="olderThan"/>. An entry
    /// Vault refuses goes to the back of the queue, so it cannot hold up the others; after three failures
    /// in a row (Vault is away) the pass stops and the next one goes on.
    /// </summary>
    public async Task<int> RunAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var settled = 0;
        var failures = 0;
        await using var connection = await OpenAsync(cancellationToken);
        while (failures < 3)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var select = new NpgsqlCommand(
                "SELECT path FROM vault_cleanup_queue WHERE queued_at <= clock_timestamp() - @grace " +
                "ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED", connection, transaction);
            select.Parameters.AddWithValue("grace", olderThan);
            if (await select.ExecuteScalarAsync(cancellationToken) is not string path)
            {
                return settled;
            }
            try
            {
                await SettleLockedAsync(connection, transaction, path, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                settled++;
                failures = 0;
            }
            catch (VaultException e)
            {
                LogLeftForCleanup(path, e.Message);
                await using var requeue = new NpgsqlCommand(
                    "UPDATE vault_cleanup_queue SET queued_at = clock_timestamp() WHERE path = @path", connection, transaction);
                requeue.Parameters.AddWithValue("path", path);
                await requeue.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                failures++;
            }
        }
        return settled;
    }

    private async Task SettleLockedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string path, CancellationToken cancellationToken)
    {
        await using var named = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM credentials WHERE vault_path = @path AND status = 'active')", connection, transaction);
        named.Parameters.AddWithValue("path", path);
        if (!(bool)(await named.ExecuteScalarAsync(cancellationToken))!)
        {
            await vault.DestroyAsync(path, cancellationToken);
            LogDestroyed(path);
        }
        await using var delete = new NpgsqlCommand("DELETE FROM vault_cleanup_queue WHERE path = @path", connection, transaction);
        delete.Parameters.AddWithValue("path", path);
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(db.Database.GetConnectionString());
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Vault secret at {Path} is left for the cleanup pass: {Reason}")]
    private partial void LogLeftForCleanup(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destroyed the Vault secret at {Path}, which no active credential names.")]
    private partial void LogDestroyed(string path);
}
