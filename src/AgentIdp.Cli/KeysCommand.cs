using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Core.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentIdp.Cli;

/// <summary>
/// <c>agentidp keys list | rotate [--now] | retire KID | reencrypt</c>: the token signing keys that the
/// AuthServer's key ring keeps in PostgreSQL. Every change goes through <see cref="SigningKeyLifecycle"/>,
/// as the ring's own do; each replica acts on it when it next reloads its keys.
/// </summary>
internal static class KeysCommand
{
    private static readonly Type[] ListSettings = [typeof(AccessTokenOptions)];
    private static readonly Type[] ChangeSettings = [typeof(AccessTokenOptions), typeof(SigningKeyOptions)];
    private static readonly string Reload = $"{SigningKeySchedule.RefreshInterval.TotalMinutes:0} minutes";

    public static Command Create(CommandContext context) =>
        new("keys", "Show and change the token signing keys.")
        {
            List(context), Rotate(context), Retire(context), Reencrypt(context),
        };

    /// <summary>A key as <c>keys list --json</c> prints it.</summary>
    public sealed record ListedKey(
        string Kid, string Algorithm, string State, DateTimeOffset CreatedAt, DateTimeOffset ActivatesAt, DateTimeOffset RetiresAt,
        DateTimeOffset PublishedUntil, DateTimeOffset? WithdrawnAt, string EncryptionKeyId);

    private static Command List(CommandContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table." };
        var command = new Command("list", "One line per signing key: its state, when it signs, until when it is published.") { json };
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, ListSettings, async (services, output, ct) =>
        {
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            var retention = SigningKeySchedule.Retention(services.GetRequiredService<IOptions<AccessTokenOptions>>().Value.Lifetime);
            var keys = await services.GetRequiredService<AgentIdpDbContext>().SigningKeys.AsNoTracking()
                .OrderByDescending(k => k.ActivatesAt).ThenByDescending(k => k.CreatedAt).ToListAsync(ct);
            var signing = SigningKeySchedule.SigningAt(keys, now);
            var listed = keys.Select(k => new ListedKey(k.Id, k.Algorithm, SigningKeySchedule.StateAt(k, now, retention, signing).Name(),
                k.CreatedAt, k.ActivatesAt, k.RetiresAt, SigningKeySchedule.PublishedUntil(k, retention), k.WithdrawnAt, k.EncryptionKeyId)).ToList();
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(listed, JsonSerializerOptions.Web));
            }
            else if (listed.Count == 0)
            {
                await output.WriteLineAsync("There is no signing key yet: the AuthServer creates the first one when it starts.");
            }
            else
            {
                await WriteTableAsync(output,
                    ["KID", "ALGORITHM", "STATE", "CREATED", "SIGNS FROM", "SIGNS UNTIL", "PUBLISHED UNTIL", "ENCRYPTION KEY"],
                    listed.Select(k => new[]
                    {
                        k.Kid, k.Algorithm, k.State, Format(k.CreatedAt), Format(k.ActivatesAt), Format(k.RetiresAt), Format(k.PublishedUntil), k.EncryptionKeyId,
                    }));
            }
            return 0;
        }, context, cancellationToken));
        return command;
    }

    private static Command Rotate(CommandContext context)
    {
        var now = new Option<bool>("--now")
        {
            Description = "Sign with the new key at once, after a suspected compromise, instead of once every replica has published it.",
        };
        var command = new Command("rotate",
            "Create a new signing key (SIGNING_ALGORITHM, SIGNING_KEY_LIFETIME_DAYS) that replaces the current one: published now, " +
            $"signing after {SigningKeySchedule.PublicationLead.TotalMinutes:0} minutes, or at once with --now.")
        {
            now,
        };
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, ChangeSettings, async (services, output, ct) =>
        {
            var rotation = await services.GetRequiredService<SigningKeyLifecycle>().RotateAsync(parse.GetValue(now), ct);
            var retention = RetentionOf(services);
            var created = rotation.Created;
            await output.WriteLineAsync(created.ActivatesAt <= created.CreatedAt
                ? $"Created signing key {created.Id} ({created.Algorithm}); it signs from now ({Format(created.ActivatesAt)}) until {Format(created.RetiresAt)}. " +
                  $"Every AuthServer replica switches to it when it next reloads its keys, within {Reload}."
                : $"Created signing key {created.Id} ({created.Algorithm}); it is published now and signs from {Format(created.ActivatesAt)}, " +
                  $"once every AuthServer replica has reloaded it, until {Format(created.RetiresAt)}.");
            await WriteSupersededAsync(output, rotation, retention);
            return 0;
        }, context, cancellationToken));
        return command;
    }

    private static Command Retire(CommandContext context)
    {
        var kid = new Argument<string>("kid") { Description = "The key's id, as `agentidp keys list` shows it." };
        var command = new Command("retire",
            "Withdraw a signing key at once: it is no longer published, and the tokens it signed stop validating. " +
            "If it is signing, a new key takes over at once.")
        {
            kid,
        };
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, ChangeSettings, async (services, output, ct) =>
        {
            var keyId = parse.GetValue(kid)!;
            var withdrawal = await services.GetRequiredService<SigningKeyLifecycle>().WithdrawAsync(keyId, ct)
                ?? throw new CommandException($"There is no signing key {keyId}; `agentidp keys list` shows them.");
            var key = withdrawal.Key;
            if (withdrawal.AlreadyWithdrawn)
            {
                await output.WriteLineAsync($"Signing key {key.Id} was already withdrawn, at {Format(key.WithdrawnAt!.Value)}.");
                return 0;
            }
            await output.WriteLineAsync(
                $"Withdrew signing key {key.Id} ({key.Algorithm}): it is no longer published. Each AuthServer replica stops publishing it " +
                $"when it next reloads its keys, within {Reload}; from then on introspection answers the tokens it signed as inactive. " +
                "The admin API refuses them once it fetches the AuthServer's keys again.");
            if (withdrawal.Successor is { } successor)
            {
                var created = successor.Created;
                await output.WriteLineAsync(
                    $"{key.Id} was signing tokens, so a successor was created: signing key {created.Id} ({created.Algorithm}) signs from now " +
                    $"until {Format(created.RetiresAt)}. Every replica switches to it within {Reload}.");
                await WriteSupersededAsync(output, successor, RetentionOf(services));
            }
            return 0;
        }, context, cancellationToken));
        return command;
    }

    private static Command Reencrypt(CommandContext context)
    {
        var command = new Command("reencrypt",
            "Re-encrypt every stored private key from SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS to SIGNING_KEY_ENCRYPTION_KEY.");
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, ChangeSettings, async (services, output, ct) =>
        {
            var protector = services.GetRequiredService<SigningKeyProtector>();
            var result = await services.GetRequiredService<SigningKeyLifecycle>().ReencryptAsync(ct);
            if (result.Unreadable.Count > 0)
            {
                var previous = protector.PreviousEncryptionKeyId is { } previousId
                    ? $"SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS (id {previousId})"
                    : "SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS (not set)";
                var keys = string.Join(", ", result.Unreadable.Select(k => $"{k.Id} (under encryption key id {k.EncryptionKeyId})"));
                throw new CommandException(
                    $"Neither SIGNING_KEY_ENCRYPTION_KEY (id {protector.EncryptionKeyId}) nor {previous} decrypts signing key(s) {keys}. " +
                    "Nothing was re-encrypted.");
            }
            await output.WriteLineAsync(
                $"Re-encrypted {result.Reencrypted} signing key(s) under SIGNING_KEY_ENCRYPTION_KEY (id {protector.EncryptionKeyId}); " +
                $"{result.AlreadyCurrent} already were.");
            return 0;
        }, context, cancellationToken));
        return command;
    }

    private static async Task WriteSupersededAsync(TextWriter output, SigningKeyRotation rotation, TimeSpan retention)
    {
        foreach (var key in rotation.Cut)
        {
            var stops = key.RetiresAt <= rotation.Created.CreatedAt ? "stopped signing" : $"stops signing at {Format(key.RetiresAt)}";
            await output.WriteLineAsync(
                $"Signing key {key.Id} {stops}; it stays published until {Format(SigningKeySchedule.PublishedUntil(key, retention))}, " +
                "so the tokens it signed stay valid until they expire.");
        }
        foreach (var key in rotation.Withdrawn)
        {
            await output.WriteLineAsync($"Signing key {key.Id}, which had not signed yet, was withdrawn: {rotation.Created.Id} replaces it.");
        }
    }

    private static TimeSpan RetentionOf(IServiceProvider services) =>
        SigningKeySchedule.Retention(services.GetRequiredService<IOptions<AccessTokenOptions>>().Value.Lifetime);

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static async Task WriteTableAsync(TextWriter output, string[] header, IEnumerable<string[]> rows)
    {
        List<string[]> lines = [header, .. rows];
        var widths = header.Select((_, column) => lines.Max(line => line[column].Length)).ToArray();
        foreach (var line in lines)
        {
            await output.WriteLineAsync(string.Join("  ", line.Select((cell, column) => cell.PadRight(widths[column]))).TrimEnd());
        }
    }
}
