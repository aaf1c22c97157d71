using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Lockout;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Core.Tokens;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace AgentIdp.Core.Persistence;

/// <summary>The one PostgreSQL store both services share. Table and column names are snake_case.</summary>
public sealed class AgentIdpDbContext(DbContextOptions<AgentIdpDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Agent> Agents => Set<Agent>();
    public DbSet<Credential> Credentials => Set<Credential>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<RevokedToken> RevokedTokens => Set<RevokedToken>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();
    public DbSet<VaultCleanupQueueEntry> VaultCleanupQueue => Set<VaultCleanupQueueEntry>();
    /// <summary>ASP.NET Core Data Protection's key ring, shared by the admin API's replicas (it protects page cursors).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    /// <summary>Failed client authentications per client id and per source, and their locks (see <see cref="FailedAuthentications"/>).</summary>
    public DbSet<AuthLockout> AuthLockouts => Set<AuthLockout>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums are stored as lower-case text: readable in psql, stable when members are reordered.
        configurationBuilder.Properties<AgentStatus>().HaveConversion<LowerCaseEnumConverter<AgentStatus>>();
        configurationBuilder.Properties<AgentType>().HaveConversion<LowerCaseEnumConverter<AgentType>>();
        configurationBuilder.Properties<DeploymentEnvironment>().HaveConversion<LowerCaseEnumConverter<DeploymentEnvironment>>();
        configurationBuilder.Properties<CredentialStatus>().HaveConversion<LowerCaseEnumConverter<CredentialStatus>>();
        configurationBuilder.Properties<AuditOutcome>().HaveConversion<LowerCaseEnumConverter<AuditOutcome>>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Agent>(agent =>
        {
            agent.ToTable("agents", t =>
            {
                t.HasCheckConstraint("ck_agents_status", "status IN ('active', 'suspended', 'decommissioned')");
                t.HasCheckConstraint("ck_agents_agent_type",
                    "agent_type IN ('screener', 'classifier', 'orchestrator', 'extractor', 'summarizer', 'router', 'monitor', 'custom')");
                t.HasCheckConstraint("ck_agents_deployment_env", "deployment_env IN ('development', 'staging', 'production')");
                t.HasCheckConstraint("ck_agents_owner_length", $"char_length(owner) BETWEEN 1 AND {AgentRules.MaxOwnerLength}");
                t.HasCheckConstraint("ck_agents_capabilities_not_empty", "cardinality(capabilities) > 0");
            });
            agent.Property(a => a.Email).HasMaxLength(AgentRules.MaxEmailLength);
            agent.Property(a => a.Version).HasMaxLength(AgentRules.MaxVersionLength);
            agent.Property(a => a.Owner).HasMaxLength(AgentRules.MaxOwnerLength);
            // The case-insensitive unique index on lower(email) is created by the migration (EF cannot model expression indexes).
            // Keyset pages (newest first), alone or under one equality filter, each read from an index.
            agent.HasIndex(a => new { a.CreatedAt, a.Id }).IsDescending(true, true);
            agent.HasIndex(a => new { a.Status, a.CreatedAt, a.Id }).IsDescending(false, true, true);
            agent.HasIndex(a => new { a.Owner, a.CreatedAt, a.Id }).IsDescending(false, true, true);
            agent.HasIndex(a => new { a.AgentType, a.CreatedAt, a.Id }).IsDescending(false, true, true);
            agent.HasIndex(a => new { a.DeploymentEnv, a.CreatedAt, a.Id }).IsDescending(false, true, true);
            agent.HasMany(a => a.Credentials).WithOne(c => c.Agent).HasForeignKey(c => c.AgentId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<Credential>(credential =>
        {
            credential.ToTable("credentials", t =>
            {
                t.HasCheckConstraint("ck_credentials_status", "status IN ('active', 'revoked')");
                t.HasCheckConstraint("ck_credentials_revoked_at", "(status = 'revoked') = (revoked_at IS NOT NULL)");
                // One secret, in one store: a bcrypt hash, or a Vault path with the version that authenticates.
                t.HasCheckConstraint("ck_credentials_one_secret_store",
                    "(secret_hash IS NULL) <> (vault_path IS NULL) AND (vault_path IS NULL) = (vault_version IS NULL)");
            });
            credential.HasIndex(c => new { c.AgentId, c.CreatedAt });
            credential.Property(c => c.VaultPath).HasColumnType("text");
            credential.HasIndex(c => c.VaultPath);
        });

        modelBuilder.Entity<VaultCleanupQueueEntry>(entry =>
        {
            entry.ToTable("vault_cleanup_queue");
            entry.HasKey(e => e.Path);
            entry.HasIndex(e => e.QueuedAt);
        });

        modelBuilder.Entity<AuditEvent>(audit =>
        {
            audit.ToTable("audit_events", t => t.HasCheckConstraint("ck_audit_events_outcome", "outcome IN ('success', 'failure')"));
            audit.Property(e => e.Action).HasMaxLength(64);
            audit.Property(e => e.Actor).HasMaxLength(AuditEvent.MaxActorLength);
            audit.Property(e => e.Details).HasColumnType("jsonb");
            audit.HasIndex(e => new { e.OccurredAt, e.Id }).IsDescending(true, true);
            audit.HasIndex(e => new { e.AgentId, e.OccurredAt, e.Id }).IsDescending(false, true, true);
            audit.HasIndex(e => new { e.Action, e.OccurredAt, e.Id }).IsDescending(false, true, true);

            // The audit chain (AuditChain). PostgreSQL sets these three on every insert, whoever inserts and however
            // (EF Core here, the AuthServer's COPY), and ignores what the writer sent. The trigger that does it, the
            // one-row audit_chain_head table it serializes writers on, and the guard on that table are created by the
            // AddAuditChain migration (EF cannot model triggers).
            audit.Property(e => e.Sequence).HasColumnName("seq").ValueGeneratedOnAdd()
                .Metadata.SetValueGenerationStrategy(NpgsqlValueGenerationStrategy.None); // the trigger's, not an identity's
            audit.Property(e => e.PreviousHash).HasColumnName("prev_hash").IsRequired().ValueGeneratedOnAdd();
            audit.Property(e => e.Hash).IsRequired().ValueGeneratedOnAdd();
            audit.HasIndex(e => e.Sequence).IsUnique().HasDatabaseName("ux_audit_events_seq");
            audit.ToTable(t => t.HasCheckConstraint("ck_audit_events_hash_lengths",
                $"octet_length(prev_hash) = {AuditChain.HashLength} AND octet_length(hash) = {AuditChain.HashLength}"));
        });

        modelBuilder.Entity<RevokedToken>(revoked =>
        {
            revoked.ToTable("revoked_tokens");
            revoked.HasKey(r => r.TokenId);
            revoked.Property(r => r.TokenId).HasMaxLength(128);
            revoked.HasIndex(r => r.ExpiresAt);
        });

        modelBuilder.Entity<SigningKey>(key =>
        {
            key.ToTable("signing_keys");
            key.Property(k => k.Id).HasMaxLength(64);
            key.Property(k => k.Algorithm).HasMaxLength(16);
            key.Property(k => k.EncryptionKeyId).HasMaxLength(64);
        });

        // --- Lockout: failed client authentications counted across replicas ---
        modelBuilder.Entity<AuthLockout>(lockout =>
        {
            // UNLOGGED: written on every failed authentication and worth nothing after a crash, so spared the WAL.
            lockout.ToTable("auth_lockouts", t => t.HasCheckConstraint("ck_auth_lockouts_scope",
                $"scope IN ('{AuthLockout.ClientScope}', '{AuthLockout.SourceScope}')")).IsUnlogged();
            lockout.HasKey(l => new { l.Scope, l.Key });
            lockout.Property(l => l.Scope).HasMaxLength(16);
            lockout.Property(l => l.Key).HasMaxLength(AuthLockout.MaxKeyLength);
        });
        // --- end Lockout ---
    }

    private sealed class LowerCaseEnumConverter<TEnum>() : ValueConverter<TEnum, string>(
        value => value.ToString().ToLowerInvariant(),
        text => Enum.Parse<TEnum>(text, true))
        where TEnum : struct, Enum;
}
