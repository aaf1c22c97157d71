using System.Security.Cryptography;
using AgentIdp.Cli;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Testing;
using AuthServer.SigningKeys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests;

/// <summary><c>agentidp keys</c> against a running AuthServer: what each replica does once it reloads its keys.</summary>
public sealed class KeyCommandsTests
{
    private sealed record Run(int ExitCode, string Output, string Error);

    private static async Task<TestData> NewDatabaseAsync() => new(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());

    private static string NewEncryptionKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(SigningKeyOptions.EncryptionKeyBytes));

    private static string EncryptionKeyIdOf(string encryptionKey) =>
        new SigningKeyProtector(Options.Create(new SigningKeyOptions { EncryptionKey = encryptionKey })).EncryptionKeyId;

    /// <summary>The operator command, run with the AuthServer's settings (and any overrides).</summary>
    private static async Task<Run> AgentidpAsync(TestData data, IReadOnlyDictionary<string, string?>? settings, params string[] args)
    {
        var all = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = data.ConnectionString,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            all[name] = value;
        }
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await AgentIdpCommand.RunAsync(args, all, output, error);
        return new Run(exitCode, output.ToString(), error.ToString());
    }

    private static async Task<IReadOnlyList<string>> PublishedAsync(HttpClient client) =>
        [.. new JsonWebKeySet(await client.GetStringAsync("/.well-known/jwks")).Keys.Select(k => k.Kid)];

    private static async Task<bool> IsActiveAsync(HttpClient client, (Guid Id, string Secret) introspector, string token)
    {
        using var response = await client.IntrospectAsync(introspector.Id.ToString(), introspector.Secret, token);
        return (await response.JsonAsync()).GetProperty("active").GetBoolean();
    }

    [Fact]
    public async Task Rotate_now_makes_a_refreshed_AuthServer_sign_with_the_new_key_and_earlier_tokens_stay_valid()
    {
        var data = await NewDatabaseAsync();
        await using var factory = new AuthServerFactory(data.ConnectionString);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var (introspector, introspectorCredential) = await data.CreateAgentWithCredentialAsync(["tokens:read"]);
        var before = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var oldKey = new JsonWebToken(before).Kid;

        var run = await AgentidpAsync(data, null, "keys", "rotate", "--now");
        await factory.Services.GetRequiredService<SigningKeyRing>().RefreshAsync(CancellationToken.None);
        var after = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(0, run.ExitCode);
        await using var db = data.Open();
        var newKey = (await db.SigningKeys.SingleAsync(k => k.Id != oldKey)).Id;
        Assert.Contains(newKey, run.Output);
        Assert.Equal(newKey, new JsonWebToken(after).Kid);
        Assert.Equal([newKey, oldKey], await PublishedAsync(client));
        Assert.True(await IsActiveAsync(client, (introspector.Id, introspectorCredential.ClientSecret), before));
        Assert.True((await SigningKeyTests.ValidateAsResourceServerAsync(client, before)).IsValid);
        Assert.True((await SigningKeyTests.ValidateAsResourceServerAsync(client, after)).IsValid);
    }

    [Fact]
    public async Task Retiring_the_signing_key_makes_its_tokens_inactive_and_drops_it_from_the_jwks_once_the_AuthServer_reloads()
    {
        var data = await NewDatabaseAsync();
        await using var factory = new AuthServerFactory(data.ConnectionString);
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var (introspector, introspectorCredential) = await data.CreateAgentWithCredentialAsync(["tokens:read"]);
        var caller = (introspector.Id, introspectorCredential.ClientSecret);
        var signed = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var retired = new JsonWebToken(signed).Kid;
        Assert.True(await IsActiveAsync(client, caller, signed));

        var run = await AgentidpAsync(data, null, "keys", "retire", retired);
        await factory.Services.GetRequiredService<SigningKeyRing>().RefreshAsync(CancellationToken.None);

        Assert.Equal(0, run.ExitCode);
        Assert.False(await IsActiveAsync(client, caller, signed));
        Assert.False((await SigningKeyTests.ValidateAsResourceServerAsync(client, signed)).IsValid);
        var published = await PublishedAsync(client);
        Assert.DoesNotContain(retired, published);
        var next = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(Assert.Single(published), new JsonWebToken(next).Kid);
        Assert.True(await IsActiveAsync(client, caller, next));
    }

    [Fact]
    public async Task A_withdrawn_successor_is_replaced_by_the_ring_before_the_current_key_retires()
    {
        var data = await NewDatabaseAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new AuthServerFactory(data.ConnectionString,
            new Dictionary<string, string?> { ["SIGNING_KEY_LIFETIME_DAYS"] = "30" }, time);
        using var client = factory.CreateClient();
        var ring = factory.Services.GetRequiredService<SigningKeyRing>();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var first = new JsonWebToken(await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret)).Kid;
        time.Advance(TimeSpan.FromDays(28.5));
        await ring.RefreshAsync(CancellationToken.None);
        var withdrawn = (await PublishedAsync(client)).Single(k => k != first);

        var run = await AgentidpAsync(data, null, "keys", "retire", withdrawn);
        await ring.RefreshAsync(CancellationToken.None);
        var published = await PublishedAsync(client);
        time.Advance(TimeSpan.FromDays(1.5) + TimeSpan.FromSeconds(1));
        await ring.RefreshAsync(CancellationToken.None);
        var late = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("successor", run.Output);
        Assert.Equal(2, published.Count);
        Assert.Contains(first, published);
        var replacement = published.Single(k => k != first);
        Assert.NotEqual(withdrawn, replacement);
        Assert.Equal(replacement, new JsonWebToken(late).Kid);
        Assert.DoesNotContain(withdrawn, await PublishedAsync(client));
    }

    [Fact]
    public async Task After_reencrypt_an_AuthServer_with_only_the_new_encryption_key_loads_the_stored_keys()
    {
        var data = await NewDatabaseAsync();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var newEncryptionKey = NewEncryptionKey();
        string token;
        await using (var before = new AuthServerFactory(data.ConnectionString))
        {
            using var client = before.CreateClient();
            token = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        }

        var run = await AgentidpAsync(data, new Dictionary<string, string?>
        {
            ["SIGNING_KEY_ENCRYPTION_KEY"] = newEncryptionKey,
            ["SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS"] = AuthServerFactory.EncryptionKey,
        }, "keys", "reencrypt");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Re-encrypted 1 signing key(s)", run.Output);
        await using (var db = data.Open())
        {
            Assert.Equal(EncryptionKeyIdOf(newEncryptionKey), (await db.SigningKeys.SingleAsync()).EncryptionKeyId);
        }
        await using var after = new AuthServerFactory(data.ConnectionString,
            new Dictionary<string, string?> { ["SIGNING_KEY_ENCRYPTION_KEY"] = newEncryptionKey });
        using var restarted = after.CreateClient();
        var next = await restarted.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(new JsonWebToken(token).Kid, new JsonWebToken(next).Kid);
        Assert.True((await SigningKeyTests.ValidateAsResourceServerAsync(restarted, token)).IsValid);
    }

    [Fact]
    public async Task During_an_encryption_key_change_a_replica_with_both_keys_signs_with_the_stored_key_and_encrypts_new_ones_under_the_new_key()
    {
        var data = await NewDatabaseAsync();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var (introspector, introspectorCredential) = await data.CreateAgentWithCredentialAsync(["tokens:read"]);
        var lifetime = new Dictionary<string, string?> { ["SIGNING_KEY_LIFETIME_DAYS"] = "30" };
        string token;
        await using (var before = new AuthServerFactory(data.ConnectionString, lifetime))
        {
            using var client = before.CreateClient();
            token = await client.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        }
        var oldKey = new JsonWebToken(token).Kid;
        var newEncryptionKey = NewEncryptionKey();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);

        await using var changing = new AuthServerFactory(data.ConnectionString, new Dictionary<string, string?>(lifetime)
        {
            ["SIGNING_KEY_ENCRYPTION_KEY"] = newEncryptionKey,
            ["SIGNING_KEY_ENCRYPTION_KEY_PREVIOUS"] = AuthServerFactory.EncryptionKey,
        }, time);
        using var changingClient = changing.CreateClient();
        var during = await changingClient.GetAccessTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var earlierTokenActive = await IsActiveAsync(changingClient, (introspector.Id, introspectorCredential.ClientSecret), token);
        time.Advance(TimeSpan.FromDays(28.5)); // the ring makes the successor
        await changing.Services.GetRequiredService<SigningKeyRing>().RefreshAsync(CancellationToken.None);

        Assert.Equal(oldKey, new JsonWebToken(during).Kid);
        Assert.True(earlierTokenActive);
        await using var db = data.Open();
        var keys = await db.SigningKeys.ToDictionaryAsync(k => k.Id);
        Assert.Equal(2, keys.Count);
        Assert.Equal(EncryptionKeyIdOf(AuthServerFactory.EncryptionKey), keys[oldKey].EncryptionKeyId);
        Assert.Equal(EncryptionKeyIdOf(newEncryptionKey), keys.Values.Single(k => k.Id != oldKey).EncryptionKeyId);
        Assert.Equal(keys.Keys.Order(), (await PublishedAsync(changingClient)).Order());
    }
}
