using System.CommandLine;
using AgentIdp.Core.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace AgentIdp.Cli;

/// <summary><c>agentidp migrate</c>: applies pending migrations and exits. Safe to run twice at once.</summary>
internal static class MigrateCommand
{
    public static Command Create(CommandContext context)
    {
        var command = new Command("migrate", "Apply pending database migrations (DATABASE_URL) and exit.");
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, async (services, output, ct) =>
        {
            var db = services.GetRequiredService<AgentIdpDbContext>();
            var applied = await DatabaseMigrator.MigrateAsync(db, ct);
            await output.WriteLineAsync(applied.Count == 0
                ? "The database is up to date."
                : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}.");
            return 0;
        }, context, cancellationToken));
        return command;
    }
}
