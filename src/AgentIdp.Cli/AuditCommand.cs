using System.CommandLine;
using AgentIdp.Core.Audit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentIdp.Cli;

/// <summary>
/// <c>agentidp audit verify [--anchor SEQ:HASH]...</c>: walks the audit chain and recomputes every link, so that an
/// event changed, deleted, inserted or moved after it was written is found and named.
/// </summary>
internal static class AuditCommand
{
    public static Command Create(CommandContext context) =>
        new("audit", "Check the audit log.") { Verify(context) };

    private static Command Verify(CommandContext context)
    {
        var anchors = new Option<string[]>("--anchor")
        {
            Description = "A head printed by an earlier verify and kept outside the database, as SEQ:HASH: the chain must still " +
                "run through it. May be given more than once.",
        };
        var command = new Command("verify",
            $"Recompute the audit chain from its first event to its head. Exit code 0: intact; {AgentIdpCommand.AuditChainBroken}: " +
            "broken, and the first broken link is named; 1: it could not be checked.")
        {
            anchors,
        };
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, async (services, output, ct) =>
        {
            var recorded = new List<AuditChainAnchor>();
            foreach (var text in parse.GetValue(anchors) ?? [])
            {
                recorded.Add(AuditChainAnchor.TryParse(text, out var anchor)
                    ? anchor
                    : throw new CommandException($"--anchor {text} is not SEQ:HASH, a seq from 1 and a hash of 64 hexadecimal digits."));
            }
            var verification = await new AuditChainVerifier(services.GetRequiredService<NpgsqlDataSource>()).VerifyAsync(recorded, ct);
            if (verification.Fault is { } fault)
            {
                var where = fault.Sequence is { } seq ? $"at seq {seq} (event {fault.EventId})" : "at its head";
                await output.WriteLineAsync($"The audit chain is broken {where}: {fault.Reason}.");
                if (verification.Checked > 0)
                {
                    await output.WriteLineAsync($"The first {verification.Checked} event(s) are intact.");
                }
                return AgentIdpCommand.AuditChainBroken;
            }
            await output.WriteLineAsync(verification.Checked == 0
                ? "The audit chain is intact: there is no event yet."
                : $"The audit chain is intact: {verification.Checked} event(s), seq 1 to {verification.Head.Sequence}" +
                  (recorded.Count == 0 ? "." : $", through {recorded.Count} recorded anchor(s)."));
            await output.WriteLineAsync($"Head: {verification.Head}");
            return 0;
        }, context, cancellationToken));
        return command;
    }
}
