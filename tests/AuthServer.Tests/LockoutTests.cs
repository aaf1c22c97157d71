using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Lockout;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using AuthServer.Tokens.ClientAuthentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests;

/// <summary>
/// Failed client authentications lock the client id and the source out, on every replica: three failures for a
/// client id, five from a source, within a minute, lock for two seconds. Sources are told by X-Forwarded-For,
/// as behind a trusted proxy; each test uses client ids and sources of its own.
/// </summary>
public sealed class LockoutTests(LockoutTests.Fixture fixture) : IClassFixture<LockoutTests.Fixture>
{
    public const int ClientMaxFailures = 3;
    public const int SourceMaxFailures = 5;
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(2);

    public static readonly IReadOnlyDictionary<string, string?> LockoutSettings = new Dictionary<string, string?>
    {
        ["FORWARDEDHEADERS_ENABLED"] = "true",
        ["LOCKOUT_CLIENT_MAX_FAILURES"] = ClientMaxFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["LOCKOUT_SOURCE_MAX_FAILURES"] = SourceMaxFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["LOCKOUT_WINDOW_SECONDS"] = "60",
        ["LOCKOUT_DURATION_SECONDS"] = Duration.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public sealed class Fixture : AuthServerFixture
    {
        protected override IReadOnlyDictionary<string, string?> Settings => LockoutSettings;
    }

    private static int _lastSource;

    /// <summary>A documentation address (RFC 5737) no other test of this class uses.</summary>
    private static string NewSource() => $"198.51.100.{Interlocked.Increment(ref _lastSource)}";

    private static HttpClient From(AuthServerFactory factory, string source)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Forwarded-For", source);
        return client;
    }

    private HttpClient From(string source) => From(fixture.Factory, source);

    private long BcryptChecks => fixture.Factory.Services.GetRequiredService<BcryptVerifier>().ChecksRun;

    /// <summary>Everything a caller sees of an answer but the Date.</summary>
    private static async Task<string> AnswerAsync(HttpResponseMessage response)
    {
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(header => header.Key != "Date")
            .OrderBy(header => header.Key, StringComparer.Ordinal)
            .Select(header => $"{header.Key}: {string.Join(", ", header.Value)}");
        return $"{(int)response.StatusCode}\n{string.Join('\n', headers)}\n\n{await response.Content.ReadAsStringAsync()}";
    }

    private static async Task<string> TokenAnswerAsync(HttpClient client, Guid clientId, string secret)
    {
        using var response = await client.RequestTokenAsync(clientId.ToString(), secret);
        return await AnswerAsync(response);
    }

    private static async Task<HttpStatusCode> TokenStatusAsync(HttpClient client, Guid clientId, string secret)
    {
        using var response = await client.RequestTokenAsync(clientId.ToString(), secret);
        return response.StatusCode;
    }

    private async Task<List<AuditEvent>> AuditAsync(string action, string mention)
    {
        await using var db = fixture.Data.Open();
        return (await db.AuditEvents.Where(e => e.Action == action).ToListAsync())
            .Where(e => e.Details.Contains(mention, StringComparison.Ordinal)).ToList();
    }

    private async Task<AuthLockout?> RowAsync(string scope, string key)
    {
        await using var db = fixture.Data.Open();
        return await db.AuthLockouts.SingleOrDefaultAsync(l => l.Scope == scope && l.Key == key);
    }

    [Fact]
    public async Task A_locked_client_id_gets_the_wrong_secret_answer_for_its_right_secret_until_the_lock_ends()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var client = From(NewSource());
        var wrong = ClientSecret.Generate(credential.Credential.Id);

        var wrongAnswer = await TokenAnswerAsync(client, agent.Id, wrong);
        for (var i = 1; i < ClientMaxFailures; i++)
        {
            Assert.Equal(wrongAnswer, await TokenAnswerAsync(client, agent.Id, wrong));
        }

        Assert.StartsWith("401\n", wrongAnswer);
        Assert.Contains("WWW-Authenticate: Basic error=\"invalid_client\"", wrongAnswer);
        Assert.Equal(wrongAnswer, await TokenAnswerAsync(client, agent.Id, credential.ClientSecret));
        var refused = await TestData.EventuallyAsync(async () =>
            (await AuditAsync(AuditActions.AuthFailed, agent.Id.ToString())).SingleOrDefault(e => e.Details.Contains("\"locked\"", StringComparison.Ordinal)));
        Assert.Equal("locked", JsonDocument.Parse(refused.Details).RootElement.GetProperty("reason").GetString());

        await Task.Delay(Duration + TimeSpan.FromMilliseconds(500));
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(client, agent.Id, credential.ClientSecret));
    }

    [Fact]
    public async Task A_lock_reached_through_one_replica_holds_on_another_sharing_the_database()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        await using var other = new AuthServerFactory(fixture.Data.ConnectionString, LockoutSettings);
        using var first = From(NewSource());
        using var second = From(other, NewSource());
        // The second replica has authenticated the agent already: its cache holds the secret.
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(second, agent.Id, credential.ClientSecret));
        var wrong = ClientSecret.Generate(credential.Credential.Id);

        for (var i = 0; i < ClientMaxFailures; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(first, agent.Id, wrong));
        }

        Assert.Equal(await TokenAnswerAsync(second, agent.Id, wrong), await TokenAnswerAsync(second, agent.Id, credential.ClientSecret));
    }

    [Fact]
    public async Task Concurrent_failures_on_two_replicas_begin_one_lock_recorded_once()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        // Two replicas whose lock outlasts the burst however slow the machine: one lock, not one per two seconds.
        var longLock = new Dictionary<string, string?>(LockoutSettings) { ["LOCKOUT_DURATION_SECONDS"] = "300" };
        await using var one = new AuthServerFactory(fixture.Data.ConnectionString, longLock);
        await using var other = new AuthServerFactory(fixture.Data.ConnectionString, longLock);
        using var first = From(one, NewSource());
        using var second = From(other, NewSource());
        var wrong = ClientSecret.Generate(credential.Credential.Id);
        foreach (var replica in new[] { first, second })
        {
            using var ready = await replica.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var statuses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => TokenStatusAsync(i % 2 == 0 ? first : second, agent.Id, wrong)));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        var locked = await TestData.EventuallyAsync(async () => (await AuditAsync(AuditActions.AuthLocked, agent.Id.ToString())).SingleOrDefault());
        await Task.Delay(AuditTrailFlush * 5);
        Assert.Single(await AuditAsync(AuditActions.AuthLocked, agent.Id.ToString()));
        Assert.Equal(AuditOutcome.Failure, locked.Outcome);
        Assert.Null(locked.AgentId);
        Assert.Null(locked.Actor);
        var details = JsonDocument.Parse(locked.Details).RootElement;
        Assert.Equal("client", details.GetProperty("scope").GetString());
        Assert.Equal(agent.Id.ToString(), details.GetProperty("claimedClientId").GetString());
        Assert.Equal(ClientMaxFailures, details.GetProperty("failures").GetInt32());
        Assert.Equal("token", details.GetProperty("endpoint").GetString());
        var row = await RowAsync(AuthLockout.ClientScope, agent.Id.ToString());
        Assert.Equal(row!.LockedUntil, details.GetProperty("lockedUntil").GetDateTimeOffset());
    }

    private static readonly TimeSpan AuditTrailFlush = Audit.AuditTrail.FlushInterval;

    [Fact]
    public async Task Failures_from_one_source_lock_it_out_before_any_bcrypt_while_other_sources_are_served()
    {
        var source = NewSource();
        using var attacker = From(source);
        for (var i = 0; i < SourceMaxFailures; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(attacker, Guid.NewGuid(), ClientSecret.Generate(Guid.NewGuid())));
        }
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var elsewhere = From(NewSource());
        var wrongAnswer = await TokenAnswerAsync(elsewhere, agent.Id, ClientSecret.Generate(credential.Credential.Id));

        var checksBefore = BcryptChecks;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(wrongAnswer, await TokenAnswerAsync(attacker, Guid.NewGuid(), ClientSecret.Generate(Guid.NewGuid())));
            Assert.Equal(wrongAnswer, await TokenAnswerAsync(attacker, agent.Id, ClientSecret.Generate(credential.Credential.Id)));
        }
        // An agent that is not cached gets the same answer from the locked source, with its right secret.
        Assert.Equal(wrongAnswer, await TokenAnswerAsync(attacker, agent.Id, credential.ClientSecret));
        Assert.Equal(checksBefore, BcryptChecks);

        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(elsewhere, agent.Id, credential.ClientSecret));
        Assert.True(BcryptChecks > checksBefore, "the other source's request was checked in full");

        var locked = await TestData.EventuallyAsync(async () => (await AuditAsync(AuditActions.AuthLocked, source))
            .SingleOrDefault(e => JsonDocument.Parse(e.Details).RootElement.TryGetProperty("source", out var locked) && locked.GetString() == source));
        var details = JsonDocument.Parse(locked.Details).RootElement;
        Assert.Equal("source", details.GetProperty("scope").GetString());
        Assert.Equal(SourceMaxFailures, details.GetProperty("failures").GetInt32());
        Assert.False(details.TryGetProperty("claimedClientId", out _));
        Assert.Equal(source, locked.Ip?.ToString());
    }

    [Fact]
    public async Task A_locked_source_still_serves_an_agent_whose_secret_is_cached()
    {
        var source = NewSource();
        using var shared = From(source);
        var (cachedAgent, cachedCredential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var (coldAgent, coldCredential) = await fixture.Data.CreateAgentWithCredentialAsync();
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(shared, cachedAgent.Id, cachedCredential.ClientSecret));
        for (var i = 0; i < SourceMaxFailures; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(shared, Guid.NewGuid(), ClientSecret.Generate(Guid.NewGuid())));
        }

        var checksBefore = BcryptChecks;
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(shared, cachedAgent.Id, cachedCredential.ClientSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(shared, coldAgent.Id, coldCredential.ClientSecret));
        Assert.Equal(checksBefore, BcryptChecks);
    }

    [Fact]
    public async Task Failed_bearer_tokens_at_introspection_count_against_their_source()
    {
        var source = NewSource();
        using var caller = From(source);
        for (var i = 0; i < SourceMaxFailures; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token/introspect") { Content = new FormUrlEncodedContent([new("token", "x")]) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.jwt");
            using var response = await caller.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var row = await RowAsync(AuthLockout.SourceScope, source);
        Assert.Equal(SourceMaxFailures, row!.Failures);
        Assert.NotNull(row.LockedUntil);
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(caller, agent.Id, credential.ClientSecret));
    }

    [Fact]
    public async Task A_success_after_a_few_failures_starts_the_client_ids_count_over()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        var wrong = ClientSecret.Generate(credential.Credential.Id);

        for (var round = 0; round < 3; round++)
        {
            using var client = From(NewSource()); // a success forgives the client id's failures, not its source's
            for (var i = 1; i < ClientMaxFailures; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync(client, agent.Id, wrong));
            }
            Assert.Equal(ClientMaxFailures - 1, (await RowAsync(AuthLockout.ClientScope, agent.Id.ToString()))!.Failures);
            Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync(client, agent.Id, credential.ClientSecret));
            Assert.Null(await RowAsync(AuthLockout.ClientScope, agent.Id.ToString()));
        }
    }

    [Fact]
    public async Task A_vault_that_cannot_be_read_is_not_counted_as_a_failure()
    {
        // This AuthServer runs without VAULT_ADDR: a Vault-backed credential cannot be read, a 500 VAULT_READ_ERROR.
        var agent = await fixture.Data.CreateAgentAsync();
        var credentialId = Guid.NewGuid();
        await using (var db = fixture.Data.Open())
        {
            db.Credentials.Add(new Credential
            {
                Id = credentialId,
                AgentId = agent.Id,
                CreatedAt = DateTimeOffset.UtcNow,
                VaultPath = $"secret/data/agentidp/agents/{agent.Id}/credentials/{credentialId}",
                VaultVersion = 1,
            });
            await db.SaveChangesAsync();
        }
        var source = NewSource();
        using var client = From(source);

        for (var i = 0; i < SourceMaxFailures + 1; i++)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, await TokenStatusAsync(client, agent.Id, ClientSecret.Generate(credentialId)));
        }

        Assert.Null(await RowAsync(AuthLockout.ClientScope, agent.Id.ToString()));
        Assert.Null(await RowAsync(AuthLockout.SourceScope, source));
    }

    [Fact]
    public async Task Ended_locks_and_closed_windows_are_purged_and_the_rest_kept()
    {
        var now = DateTimeOffset.UtcNow;
        var keys = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid().ToString()).ToArray();
        await using (var db = fixture.Data.Open())
        {
            db.AuthLockouts.AddRange(
                new AuthLockout { Scope = AuthLockout.ClientScope, Key = keys[0], Failures = 3, WindowStartedAt = now.AddMinutes(-10), LockedUntil = now.AddMinutes(-1) },
                new AuthLockout { Scope = AuthLockout.ClientScope, Key = keys[1], Failures = 1, WindowStartedAt = now.AddMinutes(-2) },
                new AuthLockout { Scope = AuthLockout.ClientScope, Key = keys[2], Failures = 3, WindowStartedAt = now.AddMinutes(-10), LockedUntil = now.AddMinutes(1) },
                new AuthLockout { Scope = AuthLockout.ClientScope, Key = keys[3], Failures = 1, WindowStartedAt = now });
            await db.SaveChangesAsync();
        }

        var purged = await fixture.Factory.Services.GetRequiredService<LockoutPurge>().PurgeAsync(CancellationToken.None);

        Assert.True(purged >= 2, $"purged {purged}");
        await using var check = fixture.Data.Open();
        var left = await check.AuthLockouts.Where(l => keys.Contains(l.Key)).Select(l => l.Key).ToListAsync();
        Assert.Equal(new[] { keys[2], keys[3] }.Order(), left.Order());
    }

    [Theory]
    [InlineData("LOCKOUT_CLIENT_MAX_FAILURES", "-1", "LOCKOUT_CLIENT_MAX_FAILURES must be from 0 (no client lock) to 1000000")]
    [InlineData("LOCKOUT_DURATION_SECONDS", "0", "LOCKOUT_DURATION_SECONDS must be a number of seconds from 1 to 86400")]
    public async Task A_malformed_lockout_setting_stops_the_start_naming_it(string name, string value, string message)
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = fixture.Data.ConnectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            [name] = value,
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains($"AuthServer cannot start: {message}", outcome.Output);
    }
}
