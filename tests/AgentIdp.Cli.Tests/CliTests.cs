using System.Text.Json;
using AgentIdp.Cli;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentIdp.Cli.Tests;

public sealed class CliTests
{
    private static Task<Run> AgentIdpAsync(string? databaseUrl, params string[] args) =>
        Agentidp.RunAsync(new Dictionary<string, string?> { ["DATABASE_URL"] = databaseUrl, ["BCRYPT_COST"] = "4" }, args);

    private static async Task<TestData> DatabaseAsync(bool migrated) =>
        new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(migrated));

    [Fact]
    public async Task Migrate_applies_the_migrations_then_finds_nothing_to_do()
    {
        var data = await DatabaseAsync(migrated: false);

        var first = await AgentIdpAsync(data.ConnectionString, "migrate");
        var second = await AgentIdpAsync(data.ConnectionString, "migrate");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("InitialSchema", first.Output);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("up to date", second.Output);
        await using var db = data.Open();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Migrations_started_together_run_once()
    {
        var data = await DatabaseAsync(migrated: false);

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => AgentIdpAsync(data.ConnectionString, "migrate"))));

        Assert.All(runs, run => Assert.Equal(0, run.ExitCode));
        Assert.Single(runs, run => run.Output.Contains("Applied", StringComparison.Ordinal));
        await using var db = data.Open();
        var history = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        Assert.Equal(history.Distinct().Count(), history.Count);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Migrate_reads_DATABASE_URL_from_a_file_in_SETTINGS_DIR()
    {
        // As the migration Job runs it: DATABASE_URL rendered into a file by Vault Agent, not in the environment.
        var data = await DatabaseAsync(migrated: false);
        var folder = Directory.CreateTempSubdirectory("agentidp-settings-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "DATABASE_URL"), data.ConnectionString + "\n");

            var run = await Agentidp.RunAsync(new Dictionary<string, string?> { ["SETTINGS_DIR"] = folder.FullName }, "migrate");

            Assert.Equal(0, run.ExitCode);
            Assert.Contains("InitialSchema", run.Output);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_DATABASE_URL_is_named_with_exit_code_2()
    {
        var run = await AgentIdpAsync(null, "migrate");

        Assert.Equal(AgentIdpCommand.ConfigurationError, run.ExitCode);
        Assert.Contains("DATABASE_URL must be set", run.Error);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_plainly()
    {
        var run = await AgentIdpAsync("Host=127.0.0.1;Port=1;Database=x;Timeout=2", "migrate");

        Assert.Equal(AgentIdpCommand.OperationFailed, run.ExitCode);
        Assert.Contains("PostgreSQL", run.Error);
    }

    [Fact]
    public async Task Bootstrap_admin_creates_the_admin_and_prints_its_credential_once()
    {
        var data = await DatabaseAsync(migrated: true);

        var run = await AgentIdpAsync(data.ConnectionString, "bootstrap-admin", "--email", "Admin@Example.com", "--owner", "platform-team");

        Assert.Equal(0, run.ExitCode);
        using var printed = JsonDocument.Parse(run.Output);
        var agentId = Guid.Parse(printed.RootElement.GetProperty("agentId").GetString()!);
        Assert.Equal(agentId.ToString(), printed.RootElement.GetProperty("clientId").GetString());
        var secret = printed.RootElement.GetProperty("clientSecret").GetString()!;
        Assert.Equal(3, printed.RootElement.EnumerateObject().Count());

        await using var db = data.Open();
        var agent = await db.Agents.SingleAsync();
        Assert.Equal(agentId, agent.Id);
        Assert.Equal("Admin@Example.com", agent.Email);
        Assert.Equal("platform-team", agent.Owner);
        Assert.Equal(AgentStatus.Active, agent.Status);
        Assert.Equal(AdminCapabilities.All.Order(), agent.Capabilities.Order());
        var authenticated = await data.SecretValidator().ValidateAsync(agentId.ToString(), secret, CancellationToken.None);
        Assert.Equal(agentId, authenticated.Agent?.AgentId);
        Assert.DoesNotContain(secret[ClientSecret.RandomPartStart..], (await db.Credentials.SingleAsync()).SecretHash);
        var actions = await db.AuditEvents.Where(e => e.AgentId == agentId).Select(e => e.Action).ToListAsync();
        Assert.Equal([AuditActions.AgentCreated, AuditActions.CredentialGenerated], actions.Order());
        Assert.DoesNotContain(secret, string.Join(' ', await db.AuditEvents.Select(e => e.Details).ToListAsync()));
    }

    [Fact]
    public async Task Bootstrapping_again_issues_another_credential_to_the_same_admin()
    {
        var data = await DatabaseAsync(migrated: true);

        var first = await AgentIdpAsync(data.ConnectionString, "bootstrap-admin", "--email", "admin@example.com", "--owner", "ops");
        var second = await AgentIdpAsync(data.ConnectionString, "bootstrap-admin", "--email", "ADMIN@example.com", "--owner", "ops");

        using var one = JsonDocument.Parse(first.Output);
        using var two = JsonDocument.Parse(second.Output);
        Assert.Equal(one.RootElement.GetProperty("agentId").GetString(), two.RootElement.GetProperty("agentId").GetString());
        Assert.NotEqual(one.RootElement.GetProperty("clientSecret").GetString(), two.RootElement.GetProperty("clientSecret").GetString());
        await using var db = data.Open();
        Assert.Equal(1, await db.Agents.CountAsync());
        Assert.Equal(2, await db.Credentials.CountAsync());
    }

    [Fact]
    public async Task Concurrent_bootstraps_create_one_admin()
    {
        var data = await DatabaseAsync(migrated: true);

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            AgentIdpAsync(data.ConnectionString, "bootstrap-admin", "--email", "admin@example.com", "--owner", "ops"))));

        Assert.All(runs, run => Assert.Equal(0, run.ExitCode));
        await using var db = data.Open();
        Assert.Equal(1, await db.Agents.CountAsync());
        Assert.Equal(3, await db.Credentials.CountAsync());
    }

    [Fact]
    public async Task Bootstrap_restores_missing_admin_capabilities_but_refuses_a_decommissioned_admin()
    {
        var data = await DatabaseAsync(migrated: true);
        var limited = await data.CreateAgentAsync(["agents:read"], email: "limited@example.com");
        var gone = await data.CreateAgentAsync(status: AgentStatus.Decommissioned, email: "gone@example.com");

        var restored = await AgentIdpAsync(data.ConnectionString, "bootstrap-admin", "--email", "limited@example.com", "--owner", "ops");
        var refused = await AgentIdpAsync(data.ConnectionString, "bootstrap-admin", "--email", "gone@example.com", "--owner", "ops");

        Assert.Equal(0, restored.ExitCode);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("decommissioned", refused.Error);
        Assert.Empty(refused.Output);
        await using var db = data.Open();
        Assert.Equal(AdminCapabilities.All.Order(), (await db.Agents.SingleAsync(a => a.Id == limited.Id)).Capabilities.Order());
        Assert.Equal(0, await db.Credentials.CountAsync(c => c.AgentId == gone.Id));
    }

    [Theory]
    [InlineData("--email", "not-an-email", "--owner", "ops")]
    [InlineData("--email", "admin@example.com", "--owner", "")]
    public async Task Bad_arguments_are_refused_before_anything_is_written(params string[] arguments)
    {
        var data = await DatabaseAsync(migrated: true);

        var run = await AgentIdpAsync(data.ConnectionString, ["bootstrap-admin", .. arguments]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--", run.Error);
        await using var db = data.Open();
        Assert.Equal(0, await db.Agents.CountAsync());
    }

    [Fact]
    public async Task A_missing_required_option_is_a_usage_error()
    {
        var run = await AgentIdpAsync("Host=unused", "bootstrap-admin", "--email", "admin@example.com");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--owner", run.Error);
    }
}
