using System.Security.Cryptography;
using System.Text.Json;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentIdp.Cli.Tests;

public sealed class KeysCommandTests
{
    private static readonly string EncryptionKey = NewEncryptionKey();

    private static string NewEncryptionKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(SigningKeyOptions.EncryptionKeyBytes));

    private static async Task<TestData> DatabaseAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    private static Task<Run> KeysAsync(TestData data, IReadOnlyDictionary<string, string?>? settings, params string[] args)
    {
        var all = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = data.ConnectionString,
            ["BCRYPT_COST"] = "4",
            ["SIGNING_KEY_ENCRYPTION_KEY"] = EncryptionKey,
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            all[name] = value;
        }
        return Agentidp.RunAsync(all, ["keys", .. args]);
    }

    private static Task<Run> KeysAsync(TestData data, params string[] args) => KeysAsync(data, null, args);

    private static SigningKeyProtector Protector(string encryptionKey, string? previous = null) =>
        new(Options.Create(new SigningKeyOptions { EncryptionKey = encryptionKey, PreviousEncryptionKey = previous }));

    private static async Task<List<SigningKey>> KeysInDatabaseAsync(TestData data)
    {
        await using var db = data.Open();
        return await db.SigningKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ToListAsync();
    }

    private static async Task<Dictionary<string, JsonElement>> ListedAsync(TestData data, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var run = await KeysAsync(data, settings, "list", "--json");
        Assert.Equal(0, run.ExitCode);
        using var listed = JsonDocument.Parse(run.Output);
        return listed.RootElement.EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!, k => k.Clone());
    }

    private static string StateOf(Dictionary<string, JsonElement> listed, string kid) => listed[kid].GetProperty("state").GetString()!;

    /// <summary>A key made the way the operator makes the first one on an empty database: signing at once.</summary>
    private static async Task<SigningKey> SigningKeyAsync(TestData data, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var before = (await KeysInDatabaseAsync(data)).Select(k => k.Id).ToHashSet();
        var run = await KeysAsync(data, settings, "rotate", "--now");
        Assert.Equal(0, run.ExitCode);
        return (await KeysInDatabaseAsync(data)).Single(k => !before.Contains(k.Id));
    }

    [Fact]
    public async Task List_shows_each_key_with_its_state_when_it_signs_and_until_when_it_is_published()
    {
        var data = await DatabaseAsync();
        var now = DateTimeOffset.UtcNow;
        var hour = TimeSpan.FromHours(1);
        SigningKey Row(string id, DateTimeOffset activates, DateTimeOffset retires, DateTimeOffset? withdrawn = null, string algorithm = "RS256") => new()
        {
            Id = id,
            Algorithm = algorithm,
            EncryptedPrivateKey = [1, 2, 3],
            EncryptionKeyId = "0123456789abcdef",
            CreatedAt = activates - hour,
            ActivatesAt = activates,
            RetiresAt = retires,
            WithdrawnAt = withdrawn,
        };
        var day = TimeSpan.FromDays(1);
        await using (var db = data.Open())
        {
            db.SigningKeys.AddRange(
                Row("expired", now - 10 * day, now - 2 * day),
                Row("verify-only", now - 9 * day, now - TimeSpan.FromMinutes(10)),
                Row("signing", now - TimeSpan.FromMinutes(10), now + 30 * day),
                Row("signing-es256", now - day, now + 30 * day, algorithm: "ES256"),
                Row("pending", now + hour, now + 40 * day),
                Row("withdrawn", now - day, now + 30 * day, withdrawn: now - hour));
            await db.SaveChangesAsync();
        }
        var stored = (await KeysInDatabaseAsync(data)).ToDictionary(k => k.Id);

        // 20 minutes of access-token lifetime plus two reloads of the key ring: retired keys stay published 30 minutes.
        var listed = await ListedAsync(data, new Dictionary<string, string?> { ["ACCESS_TOKEN_LIFETIME"] = "1200" });
        var table = await KeysAsync(data, "list");

        Assert.Equal(["expired", "pending", "signing", "signing", "verify-only", "withdrawn"],
            listed.Keys.Select(kid => StateOf(listed, kid)).Order());
        Assert.Equal("pending", StateOf(listed, "pending"));
        Assert.Equal("signing", StateOf(listed, "signing"));
        Assert.Equal("signing", StateOf(listed, "signing-es256"));
        Assert.Equal("verify-only", StateOf(listed, "verify-only"));
        Assert.Equal("expired", StateOf(listed, "expired"));
        Assert.Equal("withdrawn", StateOf(listed, "withdrawn"));
        DateTimeOffset Listed(string kid, string field) => listed[kid].GetProperty(field).GetDateTimeOffset();
        Assert.Equal(stored["verify-only"].RetiresAt + TimeSpan.FromMinutes(30), Listed("verify-only", "publishedUntil"));
        Assert.Equal(stored["signing"].RetiresAt + TimeSpan.FromMinutes(30), Listed("signing", "publishedUntil"));
        Assert.Equal(stored["withdrawn"].WithdrawnAt, Listed("withdrawn", "publishedUntil"));
        Assert.Equal(stored["pending"].ActivatesAt, Listed("pending", "activatesAt"));
        Assert.Equal(stored["pending"].RetiresAt, Listed("pending", "retiresAt"));
        Assert.Equal("RS256", listed["signing"].GetProperty("algorithm").GetString());

        Assert.Equal(0, table.ExitCode);
        var lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("KID", lines[0]);
        Assert.Equal(7, lines.Length);
        Assert.Matches(@"^verify-only\s+RS256\s+verify-only\s", lines.Single(l => l.StartsWith("verify-only", StringComparison.Ordinal)));
        Assert.Matches(@"^signing-es256\s+ES256\s+signing\s", lines.Single(l => l.StartsWith("signing-es256", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task List_needs_no_encryption_key_and_says_when_there_is_no_key_yet()
    {
        var data = await DatabaseAsync();

        var run = await KeysAsync(data, new Dictionary<string, string?> { ["SIGNING_KEY_ENCRYPTION_KEY"] = null }, "list");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("no signing key yet", run.Output);
    }

    [Fact]
    public async Task Rotate_publishes_a_successor_that_signs_after_two_reloads_and_the_current_key_stops_signing_then()
    {
        var data = await DatabaseAsync();
        var lifetime = new Dictionary<string, string?> { ["SIGNING_KEY_LIFETIME_DAYS"] = "30" };
        var current = await SigningKeyAsync(data, lifetime);

        var run = await KeysAsync(data, lifetime, "rotate");

        Assert.Equal(0, run.ExitCode);
        var keys = await KeysInDatabaseAsync(data);
        var successor = keys.Single(k => k.Id != current.Id);
        Assert.Contains(successor.Id, run.Output);
        Assert.Equal("RS256", successor.Algorithm);
        Assert.Equal(successor.CreatedAt + SigningKeySchedule.PublicationLead, successor.ActivatesAt);
        Assert.Equal(successor.ActivatesAt + TimeSpan.FromDays(30), successor.RetiresAt);
        Assert.Equal(successor.ActivatesAt, keys.Single(k => k.Id == current.Id).RetiresAt);
        Assert.Equal(Protector(EncryptionKey).EncryptionKeyId, successor.EncryptionKeyId);
        var listed = await ListedAsync(data);
        Assert.Equal("signing", StateOf(listed, current.Id));
        Assert.Equal("pending", StateOf(listed, successor.Id));
    }

    [Fact]
    public async Task Rotate_without_a_key_that_signs_makes_one_that_signs_at_once()
    {
        var data = await DatabaseAsync();

        var run = await KeysAsync(data, "rotate");

        Assert.Equal(0, run.ExitCode);
        var key = Assert.Single(await KeysInDatabaseAsync(data));
        Assert.Equal(key.CreatedAt, key.ActivatesAt);
        Assert.Contains("it signs from now", run.Output);
    }

    [Fact]
    public async Task Rotate_now_signs_with_the_new_key_at_once_and_the_old_one_stays_published_for_its_tokens()
    {
        var data = await DatabaseAsync();
        var current = await SigningKeyAsync(data);
        Assert.Equal(0, (await KeysAsync(data, "rotate")).ExitCode);
        var scheduled = (await KeysInDatabaseAsync(data)).Single(k => k.Id != current.Id);

        var run = await KeysAsync(data, "rotate", "--now");

        Assert.Equal(0, run.ExitCode);
        var keys = (await KeysInDatabaseAsync(data)).ToDictionary(k => k.Id);
        var replacement = keys.Values.Single(k => k.Id != current.Id && k.Id != scheduled.Id);
        Assert.Equal(replacement.CreatedAt, replacement.ActivatesAt);
        Assert.Equal(replacement.ActivatesAt, keys[current.Id].RetiresAt);
        Assert.NotNull(keys[scheduled.Id].WithdrawnAt); // it had not signed: the new key replaces it
        var listed = await ListedAsync(data);
        Assert.Equal("signing", StateOf(listed, replacement.Id));
        Assert.Equal("verify-only", StateOf(listed, current.Id));
        Assert.Equal("withdrawn", StateOf(listed, scheduled.Id));
        Assert.Contains(replacement.Id, run.Output);
        Assert.Contains($"{current.Id} stopped signing", run.Output);
    }

    [Fact]
    public async Task Rotate_makes_a_key_of_SIGNING_ALGORITHM_and_leaves_the_other_algorithm_signing()
    {
        var data = await DatabaseAsync();
        var rsa = await SigningKeyAsync(data);

        var ec = await SigningKeyAsync(data, new Dictionary<string, string?> { ["SIGNING_ALGORITHM"] = "ES256" });

        Assert.Equal("ES256", ec.Algorithm);
        var listed = await ListedAsync(data);
        Assert.Equal("signing", StateOf(listed, rsa.Id));
        Assert.Equal("signing", StateOf(listed, ec.Id));
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(Protector(EncryptionKey).Unprotect(ec), out _);
        Assert.Equal(256, ecdsa.KeySize);
    }

    [Fact]
    public async Task Retiring_the_signing_key_withdraws_it_and_a_successor_signs_at_once()
    {
        var data = await DatabaseAsync();
        var signing = await SigningKeyAsync(data);

        var run = await KeysAsync(data, "retire", signing.Id);

        Assert.Equal(0, run.ExitCode);
        var keys = await KeysInDatabaseAsync(data);
        Assert.NotNull(keys.Single(k => k.Id == signing.Id).WithdrawnAt);
        var successor = keys.Single(k => k.Id != signing.Id);
        Assert.Equal(signing.Algorithm, successor.Algorithm);
        Assert.Equal(successor.CreatedAt, successor.ActivatesAt);
        Assert.Contains($"{signing.Id} was signing tokens, so a successor was created: signing key {successor.Id}", run.Output);
        var listed = await ListedAsync(data);
        Assert.Equal("withdrawn", StateOf(listed, signing.Id));
        Assert.Equal("signing", StateOf(listed, successor.Id));
    }

    [Fact]
    public async Task Retiring_a_key_that_is_not_signing_creates_no_successor()
    {
        var data = await DatabaseAsync();
        var signing = await SigningKeyAsync(data);
        Assert.Equal(0, (await KeysAsync(data, "rotate")).ExitCode);
        var pending = (await KeysInDatabaseAsync(data)).Single(k => k.Id != signing.Id);

        var run = await KeysAsync(data, "retire", pending.Id);
        var again = await KeysAsync(data, "retire", pending.Id);

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("successor", run.Output);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already withdrawn", again.Output);
        var keys = await KeysInDatabaseAsync(data);
        Assert.Equal(2, keys.Count);
        Assert.Null(keys.Single(k => k.Id == signing.Id).WithdrawnAt);
        Assert.Equal("signing", StateOf(await ListedAsync(data), signing.Id));
    }

    [Fact]
    public async Task Retiring_an_unknown_key_exits_1_naming_it()
    {
        var data = await DatabaseAsync();
        await SigningKeyAsync(data);

        var run = await KeysAsync(data, "retire", "no-such-kid");

        Assert.Equal(AgentIdpCommand.OperationFailed, run.ExitCode);
        Assert.Contains("agentidp: There is no signing key no-such-kid", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Empty(run.Output);
        Assert.Single(await KeysInDatabaseAsync(data));
    }

    [Fact]
    public async Task Reencrypt_moves_every_key_from_the_previous_encryption_key_to_the_new_one_and_is_idempotent()
    {
        var data = await DatabaseAsync();
        var oldKey = NewEncryptionKey();
        var newKey = NewEncryptionKey();
        var underOld = new Dictionary<string, string?> { ["SIGNING_KEY_ENCRYPTION_KEY"] = oldKey };
        await SigningKeyAsync(data, underOld);
        await SigningKeyAsync(data, underOld);
        var changing = new Dictionary<string, string?> { ["SIGNING_KEY_ENCRYPTION_KEY"] = newKey, ["SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS"] = oldKey };
        var third = await SigningKeyAsync(data, changing); // a key made during the change is under the new encryption key already

        var run = await KeysAsync(data, changing, "reencrypt");
        var again = await KeysAsync(data, changing, "reencrypt");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Re-encrypted 2 signing key(s)", run.Output);
        Assert.Contains("1 already were", run.Output);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Re-encrypted 0 signing key(s)", again.Output);
        var onlyNew = Protector(newKey);
        var keys = await KeysInDatabaseAsync(data);
        Assert.Equal(3, keys.Count);
        Assert.All(keys, k => Assert.Equal(onlyNew.EncryptionKeyId, k.EncryptionKeyId));
        Assert.All(keys, k => Assert.NotEmpty(onlyNew.Unprotect(k)));
        Assert.Equal(third.EncryptedPrivateKey, keys.Single(k => k.Id == third.Id).EncryptedPrivateKey);
    }

    [Fact]
    public async Task Reencrypt_refuses_a_key_under_neither_encryption_key_naming_it_and_changes_nothing()
    {
        var data = await DatabaseAsync();
        var oldKey = NewEncryptionKey();
        var lost = await SigningKeyAsync(data, new Dictionary<string, string?> { ["SIGNING_KEY_ENCRYPTION_KEY"] = NewEncryptionKey() });
        var readable = await SigningKeyAsync(data, new Dictionary<string, string?> { ["SIGNING_KEY_ENCRYPTION_KEY"] = oldKey });

        var run = await KeysAsync(data, new Dictionary<string, string?>
        {
            ["SIGNING_KEY_ENCRYPTION_KEY"] = NewEncryptionKey(),
            ["SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS"] = oldKey,
        }, "reencrypt");

        Assert.Equal(AgentIdpCommand.OperationFailed, run.ExitCode);
        Assert.Contains(lost.Id, run.Error);
        Assert.DoesNotContain(readable.Id, run.Error);
        Assert.Contains("Nothing was re-encrypted", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        var keys = (await KeysInDatabaseAsync(data)).ToDictionary(k => k.Id);
        Assert.Equal(readable.EncryptionKeyId, keys[readable.Id].EncryptionKeyId);
        Assert.Equal(readable.EncryptedPrivateKey, keys[readable.Id].EncryptedPrivateKey);
    }

    [Theory]
    [InlineData("rotate", "SIGNING_KEY_ENCRYPTION_KEY", null, "SIGNING_KEY_ENCRYPTION_KEY must be set")]
    [InlineData("rotate", "SIGNING_ALGORITHM", "HS256", "SIGNING_ALGORITHM must be RS256 (default) or ES256")]
    [InlineData("rotate", "SIGNING_KEY_LIFETIME_DAYS", "0", "SIGNING_KEY_LIFETIME_DAYS must be from 1 to 3650")]
    [InlineData("reencrypt", "SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS", "c2hvcnQ=", "SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS must be exactly 32 bytes")]
    [InlineData("list", "ACCESS_TOKEN_LIFETIME", "5", "ACCESS_TOKEN_LIFETIME must be a number of seconds from 60 to 86400")]
    public async Task A_bad_setting_exits_2_naming_it_before_anything_changes(string command, string setting, string? value, string message)
    {
        var data = await DatabaseAsync();

        var run = await KeysAsync(data, new Dictionary<string, string?> { [setting] = value }, command);

        Assert.Equal(AgentIdpCommand.ConfigurationError, run.ExitCode);
        Assert.Contains($"agentidp: {message}", run.Error);
        Assert.Empty(run.Output);
        Assert.Empty(await KeysInDatabaseAsync(data));
    }
}
