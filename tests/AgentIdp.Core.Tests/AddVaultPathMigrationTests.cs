using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Persistence;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace AgentIdp.Core.Tests;

public sealed class AddVaultPathMigrationTests
{
    [Fact]
    public async Task Bcrypt_credentials_made_before_AddVaultPath_still_authenticate_after_it()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(migrated: false));
        await using var db = data.Open();
        var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        var initial = db.Database.GetMigrations().Single(m => m.EndsWith("_InitialSchema", StringComparison.Ordinal));
        var addVaultPath = db.Database.GetMigrations().Single(m => m.EndsWith("_AddVaultPath", StringComparison.Ordinal));
        await migrator.MigrateAsync(initial);

        // Written with the schema as it was: no vault_path column yet.
        var agentId = Guid.NewGuid();
        var credentialId = Guid.NewGuid();
        var secret = AgentIdp.Core.Secrets.ClientSecret.Generate(credentialId);
        var hash = TestData.Hasher.Hash(secret);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO agents (id, email, agent_type, version, capabilities, owner, deployment_env, status, created_at, updated_at)
            VALUES ({agentId}, 'legacy@example.com', 'screener', '1.0.0', ARRAY['invoices:read'], 'team', 'production', 'active', now(), now());
            INSERT INTO credentials (id, agent_id, secret_hash, secret_version, status, created_at)
            VALUES ({credentialId}, {agentId}, {hash}, 1, 'active', now());
            """);

        await migrator.MigrateAsync(addVaultPath);

        var columns = await db.Database.SqlQuery<string>(
            $"SELECT data_type || ',' || is_nullable AS \"Value\" FROM information_schema.columns WHERE table_name = 'credentials' AND column_name = 'vault_path'").SingleAsync();
        Assert.Equal("text,YES", columns);
        await migrator.MigrateAsync(); // and whatever came after it, as a deployment would
        var result = await data.SecretValidator().ValidateAsync(agentId.ToString(), secret, CancellationToken.None);
        Assert.Equal(agentId, result.Agent?.AgentId);
        var stored = await db.Credentials.SingleAsync(c => c.Id == credentialId);
        Assert.Null(stored.VaultPath);
        Assert.Null(stored.VaultVersion);
        Assert.False(stored.IsVaultBacked);
    }
}
