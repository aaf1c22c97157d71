using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Persistence;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace AgentIdp.Core.Tests;

public sealed class SchemaTests
{
    private static async Task<TestData> MigratedAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    [Fact]
    public async Task Migrations_build_the_schema_from_nothing_and_match_the_model()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(migrated: false));
        await using var db = data.Open();

        var applied = await DatabaseMigrator.MigrateAsync(db, CancellationToken.None);
        var again = await DatabaseMigrator.MigrateAsync(db, CancellationToken.None);

        Assert.Contains(applied, m => m.EndsWith("_InitialSchema", StringComparison.Ordinal));
        Assert.Empty(again);
        Assert.False(db.Database.HasPendingModelChanges(), "the model has changes no migration captures");
        var tables = await db.Database.SqlQuery<string>($"SELECT tablename AS \"Value\" FROM pg_tables WHERE schemaname = 'public'").ToListAsync();
        Assert.Superset(new HashSet<string> { "agents", "credentials", "audit_events", "revoked_tokens", "signing_keys" }, tables.ToHashSet());
    }

    [Fact]
    public async Task Every_lookup_of_the_token_path_has_an_index()
    {
        var data = await MigratedAsync();
        await using var db = data.Open();

        var indexes = await db.Database.SqlQuery<string>($"SELECT indexdef AS \"Value\" FROM pg_indexes WHERE schemaname = 'public'").ToListAsync();

        Assert.Contains(indexes, i => i.Contains("pk_credentials", StringComparison.Ordinal) && i.Contains("(id)", StringComparison.Ordinal));
        Assert.Contains(indexes, i => i.Contains("pk_agents", StringComparison.Ordinal) && i.Contains("(id)", StringComparison.Ordinal));
        Assert.Contains(indexes, i => i.Contains("pk_revoked_tokens", StringComparison.Ordinal) && i.Contains("(token_id)", StringComparison.Ordinal));
        Assert.Contains(indexes, i => i.Contains("UNIQUE INDEX ux_agents_email_lower", StringComparison.Ordinal) && i.Contains("lower", StringComparison.Ordinal));
        Assert.Contains(indexes, i => i.Contains("ix_credentials_agent_id_created_at", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_credential_lookup_reads_the_primary_key_index()
    {
        var data = await MigratedAsync();
        var (_, credential) = await data.CreateAgentWithCredentialAsync();
        await using var db = data.Open();

        var plan = string.Join('\n', await db.Database.SqlQuery<string>($"""
            EXPLAIN SELECT c.secret_hash, a.status FROM credentials c JOIN agents a ON a.id = c.agent_id WHERE c.id = {credential.Credential.Id}
            """).ToListAsync());

        Assert.Contains("pk_credentials", plan);
        Assert.DoesNotContain("Seq Scan on credentials", plan);
    }

    [Fact]
    public async Task Emails_are_unique_whatever_their_case()
    {
        var data = await MigratedAsync();
        await data.CreateAgentAsync(email: "Screener@Example.com");

        var error = await Assert.ThrowsAsync<DbUpdateException>(() => data.CreateAgentAsync(email: "screener@example.COM"));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, Assert.IsType<PostgresException>(error.InnerException).SqlState);
        await using var db = data.Open();
        Assert.NotNull(await db.Agents.WithEmail("SCREENER@EXAMPLE.COM").SingleOrDefaultAsync());
    }

    [Theory]
    [InlineData("UPDATE audit_events SET outcome = 'failure'")]
    [InlineData("DELETE FROM audit_events")]
    [InlineData("TRUNCATE audit_events")]
    public async Task The_audit_log_cannot_be_changed_or_emptied(string statement)
    {
        var data = await MigratedAsync();
        await using var db = data.Open();
        db.AuditEvents.Add(AuditEvent.Create(AuditActions.AgentCreated, AuditOutcome.Success, DateTimeOffset.UtcNow));
        await db.SaveChangesAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync(statement));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        Assert.Equal(1, await db.AuditEvents.CountAsync());
        Assert.Equal(AuditOutcome.Success, (await db.AuditEvents.SingleAsync()).Outcome);
    }

    [Theory]
    [InlineData("UPDATE agents SET status = 'deleted'")]
    [InlineData("UPDATE agents SET owner = ''")]
    [InlineData("UPDATE agents SET capabilities = ARRAY[]::text[]")]
    [InlineData("UPDATE credentials SET status = 'revoked'")]
    [InlineData("UPDATE credentials SET vault_path = 'secret/data/agentidp/x', vault_version = 1")]
    [InlineData("UPDATE credentials SET secret_hash = NULL")]
    [InlineData("UPDATE credentials SET secret_hash = NULL, vault_path = 'secret/data/agentidp/x'")]
    public async Task Constraints_keep_rows_consistent_whatever_writes_them(string statement)
    {
        var data = await MigratedAsync();
        await data.CreateAgentWithCredentialAsync();
        await using var db = data.Open();

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync(statement));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
    }

    [Fact]
    public async Task Enums_are_stored_as_lower_case_words()
    {
        var data = await MigratedAsync();
        var agent = await data.CreateAgentAsync(status: AgentStatus.Suspended);
        await using var db = data.Open();

        var row = await db.Database.SqlQuery<string>($"SELECT status || ',' || agent_type || ',' || deployment_env AS \"Value\" FROM agents WHERE id = {agent.Id}").SingleAsync();

        Assert.Equal("suspended,screener,development", row);
    }
}
