using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentIdp.Testing.Vault;
using Microsoft.Extensions.Time.Testing;

namespace AgentIdp.Testing.Tests;

/// <summary>The Vault test server keeps the contract of the Vault KV v2 HTTP API; checked with a plain HttpClient.</summary>
public sealed class VaultTestServerTests
{
    private static readonly HttpClient Http = new();
    private static readonly DateTimeOffset Start = new(2026, 3, 4, 5, 6, 7, 123, TimeSpan.Zero);
    private static readonly Dictionary<string, string> Secret1 = new() { ["client_secret"] = "one" };

    private sealed record Reply(HttpStatusCode Status, JsonElement Json, string Text)
    {
        public JsonElement Data => Json.GetProperty("data");

        public string[] Errors => [.. Json.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!)];
    }

    private static async Task<Reply> SendAsync(
        VaultTestServer server, HttpMethod method, string path, string? token, object? body = null, string? ns = null,
        bool bearer = false, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, new Uri(server.Address, "v1/" + path));
        if (token is not null)
        {
            if (bearer)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }
            else
            {
                request.Headers.Add("X-Vault-Token", token);
            }
        }
        if (ns is not null)
        {
            request.Headers.Add("X-Vault-Namespace", ns);
        }
        request.Headers.Add("X-Vault-Request", "true");
        request.Content = body switch
        {
            null => null,
            string raw => new StringContent(raw, Encoding.UTF8, "application/json"),
            _ => JsonContent.Create(body),
        };
        using var response = await Http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return new Reply(response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), text);
    }

    private static Task<Reply> WriteAsync(VaultTestServer server, string path, string? token, object data, int? cas = null, string? ns = null) =>
        SendAsync(server, HttpMethod.Post, path, token, cas is null ? new { data } : new { data, options = new { cas } }, ns);

    private static Task<Reply> ReadAsync(VaultTestServer server, string path, string? token, string? ns = null) =>
        SendAsync(server, HttpMethod.Get, path, token, ns: ns);

    private static void AssertEnvelope(JsonElement json)
    {
        Assert.True(Guid.TryParse(json.GetProperty("request_id").GetString(), out _));
        Assert.Equal("", json.GetProperty("lease_id").GetString());
        Assert.False(json.GetProperty("renewable").GetBoolean());
        Assert.Equal(0, json.GetProperty("lease_duration").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("wrap_info").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("warnings").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("auth").ValueKind);
    }

    private static void AssertEmptyNotFound(Reply reply)
    {
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Empty(reply.Errors);
        Assert.False(reply.Json.TryGetProperty("data", out _));
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    // ---- KV v2 ---------------------------------------------------------------------------------------

    [Fact]
    public async Task A_write_then_a_read_round_trips_inside_vaults_envelope()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);

        var write = await WriteAsync(server, "secret/data/agentidp/agents/a/credentials/c", server.RootToken, new { client_secret = "s3cret", n = "1" });

        Assert.Equal(HttpStatusCode.OK, write.Status);
        AssertEnvelope(write.Json);
        Assert.Equal(1, write.Data.GetProperty("version").GetInt32());
        Assert.Equal("2026-03-04T05:06:07.123Z", write.Data.GetProperty("created_time").GetString());
        Assert.Equal("", write.Data.GetProperty("deletion_time").GetString());
        Assert.False(write.Data.GetProperty("destroyed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, write.Data.GetProperty("custom_metadata").ValueKind);

        var read = await ReadAsync(server, "secret/data/agentidp/agents/a/credentials/c", server.RootToken);

        Assert.Equal(HttpStatusCode.OK, read.Status);
        AssertEnvelope(read.Json);
        Assert.Equal("s3cret", read.Data.GetProperty("data").GetProperty("client_secret").GetString());
        Assert.Equal("1", read.Data.GetProperty("data").GetProperty("n").GetString());
        var metadata = read.Data.GetProperty("metadata");
        Assert.Equal(1, metadata.GetProperty("version").GetInt32());
        Assert.Equal("2026-03-04T05:06:07.123Z", metadata.GetProperty("created_time").GetString());
        Assert.Equal("", metadata.GetProperty("deletion_time").GetString());
        Assert.False(metadata.GetProperty("destroyed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, metadata.GetProperty("custom_metadata").ValueKind);

        var stored = server.Get("secret", "agentidp/agents/a/credentials/c");
        Assert.NotNull(stored);
        Assert.Equal(1, stored.CurrentVersion);
        Assert.Equal("s3cret", stored.Versions[1].Data!["client_secret"]);
        Assert.Equal(Start, stored.Versions[1].CreatedTime);
        Assert.Null(server.Get("secret", "agentidp/agents/a/credentials/other"));
    }

    [Fact]
    public async Task Created_time_is_go_rfc3339_nano_in_utc()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)));
        await using var server = await VaultTestServer.StartAsync(time);

        var whole = await WriteAsync(server, "secret/data/a", server.RootToken, new { k = "v" });
        time.Advance(TimeSpan.FromTicks(1_234_500));
        var fraction = await WriteAsync(server, "secret/data/a", server.RootToken, new { k = "v" });

        Assert.Equal("2026-01-02T01:04:05Z", whole.Data.GetProperty("created_time").GetString());
        Assert.Equal("2026-01-02T01:04:05.12345Z", fraction.Data.GetProperty("created_time").GetString());
    }

    [Fact]
    public async Task Versions_count_up_and_an_older_version_stays_readable()
    {
        await using var server = await VaultTestServer.StartAsync();
        for (var i = 1; i <= 3; i++)
        {
            var write = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = $"v{i}" });
            Assert.Equal(i, write.Data.GetProperty("version").GetInt32());
        }

        var latest = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken);
        var zero = await ReadAsync(server, "secret/data/agentidp/x?version=0", server.RootToken);
        var first = await ReadAsync(server, "secret/data/agentidp/x?version=1", server.RootToken);
        var never = await ReadAsync(server, "secret/data/agentidp/x?version=4", server.RootToken);

        Assert.Equal("v3", latest.Data.GetProperty("data").GetProperty("value").GetString());
        Assert.Equal(3, latest.Data.GetProperty("metadata").GetProperty("version").GetInt32());
        Assert.Equal("v3", zero.Data.GetProperty("data").GetProperty("value").GetString());
        Assert.Equal("v1", first.Data.GetProperty("data").GetProperty("value").GetString());
        Assert.Equal(1, first.Data.GetProperty("metadata").GetProperty("version").GetInt32());
        AssertEmptyNotFound(never);
        Assert.Equal(3, server.Get("secret", "agentidp/x")!.CurrentVersion);
    }

    [Fact]
    public async Task A_missing_key_is_a_404_with_empty_errors()
    {
        await using var server = await VaultTestServer.StartAsync();

        AssertEmptyNotFound(await ReadAsync(server, "secret/data/agentidp/nothing", server.RootToken));
        AssertEmptyNotFound(await ReadAsync(server, "secret/metadata/agentidp/nothing", server.RootToken));
        Assert.Equal("{\"errors\":[]}", (await ReadAsync(server, "secret/data/agentidp/nothing", server.RootToken)).Text);
    }

    [Fact]
    public async Task Versions_past_max_versions_are_pruned_and_read_as_404_with_empty_errors()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("small", maxVersions: 3);
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await WriteAsync(server, "small/data/k", server.RootToken, new { value = $"v{i}" })).Status);
        }

        AssertEmptyNotFound(await ReadAsync(server, "small/data/k?version=1", server.RootToken));
        AssertEmptyNotFound(await ReadAsync(server, "small/data/k?version=2", server.RootToken));
        var kept = await ReadAsync(server, "small/data/k?version=3", server.RootToken);
        Assert.Equal("v3", kept.Data.GetProperty("data").GetProperty("value").GetString());

        var metadata = await ReadAsync(server, "small/metadata/k", server.RootToken);
        Assert.Equal(HttpStatusCode.OK, metadata.Status);
        Assert.Equal(5, metadata.Data.GetProperty("current_version").GetInt32());
        Assert.Equal(3, metadata.Data.GetProperty("oldest_version").GetInt32());
        Assert.Equal(["3", "4", "5"], metadata.Data.GetProperty("versions").EnumerateObject().Select(p => p.Name));
        Assert.Equal([3, 4, 5], server.Get("small", "k")!.Versions.Keys.Order());
    }

    [Fact]
    public async Task The_default_mount_keeps_ten_versions()
    {
        await using var server = await VaultTestServer.StartAsync();
        for (var i = 1; i <= 11; i++)
        {
            server.Put("secret", "agentidp/k", new Dictionary<string, string> { ["value"] = $"v{i}" });
        }

        AssertEmptyNotFound(await ReadAsync(server, "secret/data/agentidp/k?version=1", server.RootToken));
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/agentidp/k?version=2", server.RootToken)).Status);
        Assert.Equal(10, server.Get("secret", "agentidp/k")!.Versions.Count);
    }

    [Fact]
    public async Task A_soft_deleted_version_reads_as_404_with_its_metadata()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);
        await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v1" });
        await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v2" });
        time.Advance(TimeSpan.FromMinutes(1));

        var delete = await SendAsync(server, HttpMethod.Delete, "secret/data/agentidp/x", server.RootToken);
        Assert.Equal(HttpStatusCode.NoContent, delete.Status);
        Assert.Equal("", delete.Text);

        var read = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken);
        Assert.Equal(HttpStatusCode.NotFound, read.Status);
        Assert.False(read.Json.TryGetProperty("errors", out _));
        AssertEnvelope(read.Json);
        Assert.Equal(JsonValueKind.Null, read.Data.GetProperty("data").ValueKind);
        var metadata = read.Data.GetProperty("metadata");
        Assert.Equal(2, metadata.GetProperty("version").GetInt32());
        Assert.Equal("2026-03-04T05:07:07.123Z", metadata.GetProperty("deletion_time").GetString());
        Assert.False(metadata.GetProperty("destroyed").GetBoolean());

        var older = await ReadAsync(server, "secret/data/agentidp/x?version=1", server.RootToken);
        Assert.Equal("v1", older.Data.GetProperty("data").GetProperty("value").GetString());
        Assert.Equal(Start.AddMinutes(1), server.Get("secret", "agentidp/x")!.Versions[2].DeletionTime);

        var rewrite = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v3" });
        Assert.Equal(3, rewrite.Data.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_destroyed_version_reads_as_404_with_destroyed_metadata()
    {
        await using var server = await VaultTestServer.StartAsync();
        await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v1" });

        var destroy = await SendAsync(server, HttpMethod.Post, "secret/destroy/agentidp/x", server.RootToken, new { versions = new[] { 1 } });
        var read = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken);

        Assert.Equal(HttpStatusCode.NoContent, destroy.Status);
        Assert.Equal(HttpStatusCode.NotFound, read.Status);
        Assert.True(read.Data.GetProperty("metadata").GetProperty("destroyed").GetBoolean());
        Assert.Equal("", read.Data.GetProperty("metadata").GetProperty("deletion_time").GetString());
        Assert.Null(server.Get("secret", "agentidp/x")!.Versions[1].Data);
    }

    [Fact]
    public async Task Deleting_the_metadata_removes_every_version()
    {
        await using var server = await VaultTestServer.StartAsync();
        await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v1" });
        await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v2" });

        var delete = await SendAsync(server, HttpMethod.Delete, "secret/metadata/agentidp/x", server.RootToken);

        Assert.Equal(HttpStatusCode.NoContent, delete.Status);
        AssertEmptyNotFound(await ReadAsync(server, "secret/data/agentidp/x", server.RootToken));
        AssertEmptyNotFound(await ReadAsync(server, "secret/data/agentidp/x?version=1", server.RootToken));
        AssertEmptyNotFound(await ReadAsync(server, "secret/metadata/agentidp/x", server.RootToken));
        Assert.Null(server.Get("secret", "agentidp/x"));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(server, HttpMethod.Delete, "secret/metadata/agentidp/x", server.RootToken)).Status);
        Assert.Equal(1, (await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "again" })).Data.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Check_and_set_writes_only_on_the_expected_version()
    {
        await using var server = await VaultTestServer.StartAsync();

        var create = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v1" }, cas: 0);
        var createAgain = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "other" }, cas: 0);
        var update = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "v2" }, cas: 1);
        var stale = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "other" }, cas: 1);
        var ahead = await WriteAsync(server, "secret/data/agentidp/x", server.RootToken, new { value = "other" }, cas: 5);

        Assert.Equal(HttpStatusCode.OK, create.Status);
        Assert.Equal(HttpStatusCode.OK, update.Status);
        Assert.Equal(2, update.Data.GetProperty("version").GetInt32());
        foreach (var rejected in new[] { createAgain, stale, ahead })
        {
            Assert.Equal(HttpStatusCode.BadRequest, rejected.Status);
            Assert.Equal(["check-and-set parameter did not match the current version"], rejected.Errors);
        }
        Assert.Equal("v2", server.Get("secret", "agentidp/x")!.Versions[2].Data!["value"]);
        Assert.Equal(2, server.Get("secret", "agentidp/x")!.CurrentVersion);
    }

    [Fact]
    public async Task A_cas_required_mount_rejects_a_write_without_cas()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("strict", casRequired: true);

        var without = await WriteAsync(server, "strict/data/x", server.RootToken, new { value = "v1" });
        var with = await WriteAsync(server, "strict/data/x", server.RootToken, new { value = "v1" }, cas: 0);

        Assert.Equal(HttpStatusCode.BadRequest, without.Status);
        Assert.Equal(["check-and-set parameter required for this call"], without.Errors);
        Assert.Equal(HttpStatusCode.OK, with.Status);
        Assert.Equal(1, server.Get("strict", "x")!.CurrentVersion);
    }

    [Fact]
    public async Task A_write_without_data_or_with_bad_json_is_a_400()
    {
        await using var server = await VaultTestServer.StartAsync();

        var noData = await SendAsync(server, HttpMethod.Post, "secret/data/x", server.RootToken, new { options = new { cas = 0 } });
        var noBody = await SendAsync(server, HttpMethod.Put, "secret/data/x", server.RootToken);
        var badJson = await SendAsync(server, HttpMethod.Post, "secret/data/x", server.RootToken, "{\"data\": ");
        var notAMap = await SendAsync(server, HttpMethod.Post, "secret/data/x", server.RootToken, new { data = "text" });

        Assert.Equal(HttpStatusCode.BadRequest, noData.Status);
        Assert.Equal(["no data provided"], noData.Errors);
        Assert.Equal(HttpStatusCode.BadRequest, noBody.Status);
        Assert.Equal(HttpStatusCode.BadRequest, badJson.Status);
        Assert.StartsWith("failed to parse JSON input", badJson.Errors.Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notAMap.Status);
        Assert.Single(notAMap.Errors);
        Assert.Null(server.Get("secret", "x"));
    }

    [Fact]
    public async Task Mounts_may_contain_slashes_and_the_longest_mount_wins()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("team/kv");
        server.MountKv("team");

        await WriteAsync(server, "team/kv/data/x", server.RootToken, new { value = "inner" });
        await WriteAsync(server, "team/data/x", server.RootToken, new { value = "outer" });
        var unknown = await ReadAsync(server, "nowhere/data/x", server.RootToken);
        var invalid = await ReadAsync(server, "secret/x", server.RootToken);

        Assert.Equal("inner", server.Get("team/kv", "x")!.Versions[1].Data!["value"]);
        Assert.Equal("outer", server.Get("team", "x")!.Versions[1].Data!["value"]);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(["no handler for route \"nowhere/data/x\". route entry not found."], unknown.Errors);
        Assert.Equal(HttpStatusCode.NotFound, invalid.Status);
        Assert.Contains("Invalid path for a versioned K/V secrets engine", invalid.Errors.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_lists_keys_and_reports_versions()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Put("secret", "agentidp/agents/a/credentials/c1", Secret1);
        server.Put("secret", "agentidp/agents/a/credentials/c2", Secret1);
        server.Put("secret", "agentidp/agents/b/credentials/c1", Secret1);

        var agents = await SendAsync(server, new HttpMethod("LIST"), "secret/metadata/agentidp/agents", server.RootToken);
        var credentials = await ReadAsync(server, "secret/metadata/agentidp/agents/a/credentials/?list=true", server.RootToken);
        var none = await ReadAsync(server, "secret/metadata/agentidp/nothing/?list=true", server.RootToken);

        Assert.Equal(["a/", "b/"], Strings(agents.Data.GetProperty("keys")));
        Assert.Equal(["c1", "c2"], Strings(credentials.Data.GetProperty("keys")));
        AssertEmptyNotFound(none);
    }

    [Fact]
    public async Task Concurrent_writes_each_get_their_own_version()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("busy", maxVersions: 100);

        var writes = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => WriteAsync(server, "busy/data/x", server.RootToken, new { value = $"v{i}" })));

        Assert.All(writes, w => Assert.Equal(HttpStatusCode.OK, w.Status));
        Assert.Equal(Enumerable.Range(1, 40), writes.Select(w => w.Data.GetProperty("version").GetInt32()).Order());
        Assert.Equal(40, server.Get("busy", "x")!.CurrentVersion);
        Assert.Equal(40, server.Requests.Count);
    }

    // ---- policies and tokens -------------------------------------------------------------------------

    [Fact]
    public async Task Creating_a_key_needs_create_and_changing_it_needs_update()
    {
        await using var server = await VaultTestServer.StartAsync();
        var createOnly = server.CreateToken([new("secret/data/agentidp/*", ["create", "read"])]);
        var updateOnly = server.CreateToken([new("secret/data/agentidp/*", ["update"])]);

        var created = await WriteAsync(server, "secret/data/agentidp/new", createOnly, new { value = "v1" });
        var overwrite = await WriteAsync(server, "secret/data/agentidp/new", createOnly, new { value = "v2" });
        var updateNew = await WriteAsync(server, "secret/data/agentidp/other", updateOnly, new { value = "v1" });
        var updated = await WriteAsync(server, "secret/data/agentidp/new", updateOnly, new { value = "v2" });

        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal(HttpStatusCode.Forbidden, overwrite.Status);
        Assert.Equal(["permission denied"], overwrite.Errors);
        Assert.Equal(HttpStatusCode.Forbidden, updateNew.Status);
        Assert.Null(server.Get("secret", "agentidp/other"));
        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal(2, server.Get("secret", "agentidp/new")!.CurrentVersion);
    }

    [Fact]
    public async Task Reading_and_deleting_need_their_own_capabilities()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Put("secret", "agentidp/x", Secret1);
        server.Put("secret", "elsewhere/x", Secret1);
        var writer = server.CreateToken([new("secret/data/agentidp/*", ["create", "update"])]);
        var agentIdp = server.CreateToken(VaultTestServer.AgentIdpPolicy());

        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/data/agentidp/x", writer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(server, HttpMethod.Delete, "secret/data/agentidp/x", writer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(server, HttpMethod.Delete, "secret/metadata/agentidp/x", writer)).Status);
        Assert.Null(server.Get("secret", "agentidp/x")!.Versions[1].DeletionTime);

        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/agentidp/x", agentIdp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/data/elsewhere/x", agentIdp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/metadata/agentidp/x", agentIdp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(server, HttpMethod.Delete, "secret/metadata/elsewhere/x", agentIdp)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(server, HttpMethod.Delete, "secret/data/agentidp/x", agentIdp)).Status);
        Assert.NotNull(server.Get("secret", "agentidp/x")!.Versions[1].DeletionTime);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(server, HttpMethod.Delete, "secret/metadata/agentidp/x", agentIdp)).Status);
        Assert.Null(server.Get("secret", "agentidp/x"));
        Assert.NotNull(server.Get("secret", "elsewhere/x"));
    }

    [Fact]
    public async Task The_most_specific_rule_decides_and_plus_matches_one_segment()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Put("secret", "agentidp/open", Secret1);
        server.Put("secret", "agentidp/private/x", Secret1);
        server.Put("secret", "teams/a/x", Secret1);
        server.Put("secret", "teams/a/b/x", Secret1);
        var token = server.CreateToken(
        [
            new("secret/data/agentidp/*", ["read"]),
            new("secret/data/agentidp/private/*", ["deny"]),
            new("secret/data/teams/+/x", ["read"]),
        ]);

        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/agentidp/open", token)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/data/agentidp/private/x", token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/teams/a/x", token)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/data/teams/a/b/x", token)).Status);
    }

    [Fact]
    public async Task A_missing_unknown_or_revoked_token_is_denied()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Put("secret", "agentidp/x", Secret1);
        var token = server.CreateToken(VaultTestServer.AgentIdpPolicy());

        var bearer = await SendAsync(server, HttpMethod.Get, "secret/data/agentidp/x", token, bearer: true);
        var missing = await ReadAsync(server, "secret/data/agentidp/x", null);
        var unknown = await ReadAsync(server, "secret/data/agentidp/x", "hvs.unknown");
        server.RevokeToken(token);
        var revoked = await ReadAsync(server, "secret/data/agentidp/x", token);
        var revokedLookup = await ReadAsync(server, "auth/token/lookup-self", token);

        Assert.Equal(HttpStatusCode.OK, bearer.Status);
        foreach (var denied in new[] { missing, unknown, revoked, revokedLookup })
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.Status);
            Assert.Equal(["permission denied"], denied.Errors);
        }
    }

    [Fact]
    public async Task Namespaces_keep_mounts_and_tokens_apart()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("secret", "ns1");
        server.Put("secret", "agentidp/root-only", Secret1);
        var inNs1 = server.CreateToken(VaultTestServer.AgentIdpPolicy(), @namespace: "ns1");
        var inRoot = server.CreateToken(VaultTestServer.AgentIdpPolicy());

        var write = await WriteAsync(server, "secret/data/agentidp/x", inNs1, new { value = "ns1" }, ns: "ns1/");
        var withoutHeader = await ReadAsync(server, "secret/data/agentidp/x", inNs1);
        var otherNamespace = await ReadAsync(server, "secret/data/agentidp/x", inNs1, ns: "ns2");
        var rootSecretFromNs1 = await ReadAsync(server, "secret/data/agentidp/root-only", inNs1, ns: "ns1");
        var rootTokenPolicyInNs1 = await ReadAsync(server, "secret/data/agentidp/x", inRoot, ns: "ns1");
        var rootTokenInNs1 = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken, ns: "/ns1/");
        var unmountedNamespace = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken, ns: "ns2");

        Assert.Equal(HttpStatusCode.OK, write.Status);
        Assert.Equal("ns1", server.Get("secret", "agentidp/x", "ns1")!.Versions[1].Data!["value"]);
        Assert.Null(server.Get("secret", "agentidp/x"));
        Assert.Equal(HttpStatusCode.Forbidden, withoutHeader.Status);
        Assert.Equal(HttpStatusCode.Forbidden, otherNamespace.Status);
        AssertEmptyNotFound(rootSecretFromNs1);
        Assert.Equal(HttpStatusCode.Forbidden, rootTokenPolicyInNs1.Status);
        Assert.Equal("ns1", rootTokenInNs1.Data.GetProperty("data").GetProperty("value").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unmountedNamespace.Status);
        Assert.Equal(["no handler for route \"secret/data/agentidp/x\". route entry not found."], unmountedNamespace.Errors);
        Assert.Equal("ns1/", server.Requests[0].Namespace);
    }

    [Fact]
    public async Task Lookup_self_reports_the_remaining_ttl_and_an_expired_token_is_denied()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);
        server.Put("secret", "agentidp/x", Secret1);
        var token = server.CreateToken(VaultTestServer.AgentIdpPolicy(), ttl: TimeSpan.FromHours(1));

        var fresh = await ReadAsync(server, "auth/token/lookup-self", token);
        time.Advance(TimeSpan.FromMinutes(30));
        var half = await ReadAsync(server, "auth/token/lookup-self", token);
        var readBeforeExpiry = await ReadAsync(server, "secret/data/agentidp/x", token);
        time.Advance(TimeSpan.FromMinutes(30));
        var expiredLookup = await ReadAsync(server, "auth/token/lookup-self", token);
        var expiredRead = await ReadAsync(server, "secret/data/agentidp/x", token);

        Assert.Equal(HttpStatusCode.OK, fresh.Status);
        Assert.Equal(token, fresh.Data.GetProperty("id").GetString());
        Assert.Equal(3600, fresh.Data.GetProperty("ttl").GetInt64());
        Assert.Equal(3600, fresh.Data.GetProperty("creation_ttl").GetInt64());
        Assert.Equal(0, fresh.Data.GetProperty("explicit_max_ttl").GetInt64());
        Assert.True(fresh.Data.GetProperty("renewable").GetBoolean());
        Assert.Equal("2026-03-04T06:06:07.123Z", fresh.Data.GetProperty("expire_time").GetString());
        Assert.Contains("default", Strings(fresh.Data.GetProperty("policies")));
        Assert.False(string.IsNullOrEmpty(fresh.Data.GetProperty("accessor").GetString()));
        Assert.Equal(1800, half.Data.GetProperty("ttl").GetInt64());
        Assert.Equal(HttpStatusCode.OK, readBeforeExpiry.Status);
        Assert.Equal(HttpStatusCode.Forbidden, expiredLookup.Status);
        Assert.Contains("permission denied", expiredLookup.Errors.Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, expiredRead.Status);
    }

    [Fact]
    public async Task The_root_token_never_expires_and_cannot_be_renewed()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);
        time.Advance(TimeSpan.FromDays(400));

        var lookup = await ReadAsync(server, "auth/token/lookup-self", server.RootToken);
        var renew = await SendAsync(server, HttpMethod.Post, "auth/token/renew-self", server.RootToken);

        Assert.Equal(HttpStatusCode.OK, lookup.Status);
        Assert.Equal(["root"], Strings(lookup.Data.GetProperty("policies")));
        Assert.Equal(0, lookup.Data.GetProperty("ttl").GetInt64());
        Assert.Equal(JsonValueKind.Null, lookup.Data.GetProperty("expire_time").ValueKind);
        Assert.False(lookup.Data.GetProperty("renewable").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, renew.Status);
        Assert.Equal(["lease is not renewable"], renew.Errors);
    }

    [Fact]
    public async Task Renew_self_resets_the_ttl_without_passing_it_or_the_max_ttl()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);
        var token = server.CreateToken(VaultTestServer.AgentIdpPolicy(), ttl: TimeSpan.FromHours(1), maxTtl: TimeSpan.FromMinutes(100));

        time.Advance(TimeSpan.FromMinutes(30));
        var renewed = await SendAsync(server, HttpMethod.Post, "auth/token/renew-self", token, new { increment = "720h" });
        var lookup = await ReadAsync(server, "auth/token/lookup-self", token);
        time.Advance(TimeSpan.FromMinutes(20));
        var shorter = await SendAsync(server, HttpMethod.Put, "auth/token/renew-self", token, new { increment = 600 });
        time.Advance(TimeSpan.FromMinutes(9));
        var stillValid = await ReadAsync(server, "auth/token/lookup-self", token);
        var capped = await SendAsync(server, HttpMethod.Post, "auth/token/renew-self", token, new { increment = "1h" });
        time.Advance(TimeSpan.FromMinutes(41));
        var expired = await ReadAsync(server, "auth/token/lookup-self", token);

        Assert.Equal(HttpStatusCode.OK, renewed.Status);
        var auth = renewed.Json.GetProperty("auth");
        Assert.Equal(token, auth.GetProperty("client_token").GetString());
        Assert.Equal(3600, auth.GetProperty("lease_duration").GetInt64());
        Assert.True(auth.GetProperty("renewable").GetBoolean());
        Assert.Contains("default", Strings(auth.GetProperty("policies")));
        Assert.Equal(lookup.Data.GetProperty("accessor").GetString(), auth.GetProperty("accessor").GetString());
        Assert.Equal(3600, lookup.Data.GetProperty("ttl").GetInt64());
        Assert.Equal(600, shorter.Json.GetProperty("auth").GetProperty("lease_duration").GetInt64());
        Assert.Equal(60, stillValid.Data.GetProperty("ttl").GetInt64());
        Assert.Equal(41 * 60, capped.Json.GetProperty("auth").GetProperty("lease_duration").GetInt64());
        Assert.Equal(HttpStatusCode.Forbidden, expired.Status);
    }

    [Fact]
    public async Task A_non_renewable_token_cannot_be_renewed()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);
        var token = server.CreateToken(VaultTestServer.AgentIdpPolicy(), ttl: TimeSpan.FromHours(1), renewable: false);
        time.Advance(TimeSpan.FromMinutes(10));

        var renew = await SendAsync(server, HttpMethod.Post, "auth/token/renew-self", token, new { increment = "1h" });
        var lookup = await ReadAsync(server, "auth/token/lookup-self", token);

        Assert.Equal(HttpStatusCode.BadRequest, renew.Status);
        Assert.Equal(["lease is not renewable"], renew.Errors);
        Assert.Equal(50 * 60, lookup.Data.GetProperty("ttl").GetInt64());
        Assert.False(lookup.Data.GetProperty("renewable").GetBoolean());
    }

    // ---- logins --------------------------------------------------------------------------------------

    [Fact]
    public async Task Kubernetes_login_issues_a_token_with_the_roles_policy_and_ttl()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);
        server.Put("secret", "agentidp/x", Secret1);
        server.AddKubernetesRole("agentidp", "sa-jwt", VaultTestServer.AgentIdpPolicy(), TimeSpan.FromMinutes(20));
        server.AddKubernetesRole("other", "other-jwt", [], TimeSpan.FromMinutes(20), mountPath: "k8s/cluster-b");

        var login = await SendAsync(server, HttpMethod.Post, "auth/kubernetes/login", null, new { role = "agentidp", jwt = "sa-jwt" });
        var customMount = await SendAsync(server, HttpMethod.Post, "auth/k8s/cluster-b/login", null, new { role = "other", jwt = "other-jwt" });
        var unknownRole = await SendAsync(server, HttpMethod.Post, "auth/kubernetes/login", null, new { role = "nobody", jwt = "sa-jwt" });
        var wrongJwt = await SendAsync(server, HttpMethod.Post, "auth/kubernetes/login", null, new { role = "agentidp", jwt = "forged" });

        Assert.Equal(HttpStatusCode.OK, login.Status);
        AssertEnvelopeWithAuth(login.Json);
        var auth = login.Json.GetProperty("auth");
        var token = auth.GetProperty("client_token").GetString()!;
        Assert.Equal(1200, auth.GetProperty("lease_duration").GetInt64());
        Assert.True(auth.GetProperty("renewable").GetBoolean());
        Assert.NotEmpty(Strings(auth.GetProperty("policies")));
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/agentidp/x", token)).Status);
        Assert.Equal(HttpStatusCode.OK, customMount.Status);
        Assert.Equal(HttpStatusCode.BadRequest, unknownRole.Status);
        Assert.Contains("invalid role name", unknownRole.Errors.Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, wrongJwt.Status);
        Assert.Equal(["permission denied"], wrongJwt.Errors);

        time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/data/agentidp/x", token)).Status);
    }

    private static void AssertEnvelopeWithAuth(JsonElement json)
    {
        Assert.True(Guid.TryParse(json.GetProperty("request_id").GetString(), out _));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("data").ValueKind);
        Assert.Equal(JsonValueKind.Object, json.GetProperty("auth").ValueKind);
    }

    [Fact]
    public async Task A_login_sent_to_a_namespace_gets_a_token_of_that_namespace()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("secret", "ns1");
        server.Put("secret", "agentidp/x", Secret1, "ns1");
        server.AddKubernetesRole("agentidp", "sa-jwt", VaultTestServer.AgentIdpPolicy(), TimeSpan.FromMinutes(20), renewable: false);

        var login = await SendAsync(server, HttpMethod.Post, "auth/kubernetes/login", null, new { role = "agentidp", jwt = "sa-jwt" }, ns: "ns1");
        var token = login.Json.GetProperty("auth").GetProperty("client_token").GetString()!;

        Assert.False(login.Json.GetProperty("auth").GetProperty("renewable").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/agentidp/x", token, ns: "ns1")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReadAsync(server, "secret/data/agentidp/x", token)).Status);
    }

    [Fact]
    public async Task AppRole_login_checks_the_role_and_secret_ids()
    {
        await using var server = await VaultTestServer.StartAsync(new FakeTimeProvider(Start));
        server.Put("secret", "agentidp/x", Secret1);
        server.AddAppRole("role-id", "secret-id", VaultTestServer.AgentIdpPolicy(), TimeSpan.FromHours(1));

        var login = await SendAsync(server, HttpMethod.Post, "auth/approle/login", null, new { role_id = "role-id", secret_id = "secret-id" });
        var wrongSecret = await SendAsync(server, HttpMethod.Post, "auth/approle/login", null, new { role_id = "role-id", secret_id = "guess" });
        var wrongRole = await SendAsync(server, HttpMethod.Post, "auth/approle/login", null, new { role_id = "guess", secret_id = "secret-id" });

        Assert.Equal(HttpStatusCode.OK, login.Status);
        var auth = login.Json.GetProperty("auth");
        Assert.Equal(3600, auth.GetProperty("lease_duration").GetInt64());
        Assert.True(auth.GetProperty("renewable").GetBoolean());
        Assert.False(string.IsNullOrEmpty(auth.GetProperty("accessor").GetString()));
        var token = auth.GetProperty("client_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "secret/data/agentidp/x", token)).Status);
        Assert.Equal(3600, (await ReadAsync(server, "auth/token/lookup-self", token)).Data.GetProperty("ttl").GetInt64());
        foreach (var rejected in new[] { wrongSecret, wrongRole })
        {
            Assert.Equal(HttpStatusCode.BadRequest, rejected.Status);
            Assert.Equal(["invalid role or secret ID"], rejected.Errors);
        }
    }

    // ---- health and faults ---------------------------------------------------------------------------

    [Fact]
    public async Task Health_answers_without_a_token()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await VaultTestServer.StartAsync(time);

        var health = await ReadAsync(server, "sys/health", null);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.True(health.Json.GetProperty("initialized").GetBoolean());
        Assert.False(health.Json.GetProperty("sealed").GetBoolean());
        Assert.False(health.Json.GetProperty("standby").GetBoolean());
        Assert.False(health.Json.GetProperty("performance_standby").GetBoolean());
        Assert.Equal("disabled", health.Json.GetProperty("replication_performance_mode").GetString());
        Assert.Equal("disabled", health.Json.GetProperty("replication_dr_mode").GetString());
        Assert.Equal(Start.ToUnixTimeSeconds(), health.Json.GetProperty("server_time_utc").GetInt64());
        Assert.Equal("1.15.0-agentidp-test", health.Json.GetProperty("version").GetString());
        Assert.Equal("agentidp-test", health.Json.GetProperty("cluster_name").GetString());
        Assert.True(Guid.TryParse(health.Json.GetProperty("cluster_id").GetString(), out _));
    }

    [Fact]
    public async Task Sealed_gives_503_everywhere_and_health_its_sealed_body()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Fault = VaultFault.Sealed;

        var read = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken);
        var login = await SendAsync(server, HttpMethod.Post, "auth/kubernetes/login", null, new { role = "r", jwt = "j" });
        var health = await ReadAsync(server, "sys/health", null);
        var overridden = await ReadAsync(server, "sys/health?standbyok=true&sealedcode=299&uninitcode=299", null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.Status);
        Assert.Equal(["Vault is sealed"], read.Errors);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, login.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Status);
        Assert.True(health.Json.GetProperty("sealed").GetBoolean());
        Assert.True(health.Json.GetProperty("initialized").GetBoolean());
        Assert.Equal(299, (int)overridden.Status);
        Assert.True(overridden.Json.GetProperty("sealed").GetBoolean());

        server.Fault = VaultFault.None;
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "sys/health", null)).Status);
        AssertEmptyNotFound(await ReadAsync(server, "secret/data/agentidp/x", server.RootToken));
    }

    [Fact]
    public async Task Forbidden_denies_every_request_even_the_root_token()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Put("secret", "agentidp/x", Secret1);
        server.Fault = VaultFault.Forbidden;

        var read = await ReadAsync(server, "secret/data/agentidp/x", server.RootToken);
        var health = await ReadAsync(server, "sys/health", null);

        Assert.Equal(HttpStatusCode.Forbidden, read.Status);
        Assert.Equal(["1 error occurred:\n\t* permission denied\n\n"], read.Errors);
        Assert.Equal(HttpStatusCode.Forbidden, health.Status);
    }

    [Fact]
    public async Task Down_drops_the_connection_without_an_answer()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Fault = VaultFault.Down;

        await Assert.ThrowsAsync<HttpRequestException>(() => ReadAsync(server, "secret/data/agentidp/x", server.RootToken));
        await Assert.ThrowsAsync<HttpRequestException>(() => ReadAsync(server, "sys/health", null));

        Assert.NotEmpty(server.Requests);
        Assert.All(server.Requests, r => Assert.Equal(0, r.Status));
        server.Fault = VaultFault.None;
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "sys/health", null)).Status);
    }

    [Fact]
    public async Task Slow_answers_after_the_delay()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Fault = VaultFault.Slow;
        server.SlowDelay = TimeSpan.FromMilliseconds(300);

        var clock = Stopwatch.StartNew();
        var health = await ReadAsync(server, "sys/health", null);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task Slow_honours_a_client_that_gives_up()
    {
        await using var server = await VaultTestServer.StartAsync();
        Assert.Equal(TimeSpan.FromSeconds(30), server.SlowDelay);
        // A first request warms up the connection, so that the slow one surely reaches the server before the client gives up.
        Assert.Equal(HttpStatusCode.OK, (await ReadAsync(server, "sys/health", null)).Status);
        server.Fault = VaultFault.Slow;

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => SendAsync(server, HttpMethod.Get, "secret/data/agentidp/x", server.RootToken, cancellationToken: cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"gave up after {clock.Elapsed}");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.Requests.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(("/v1/secret/data/agentidp/x", 0), (server.Requests[1].Path, server.Requests[1].Status));
    }

    [Fact]
    public async Task Disposal_stops_the_server_even_with_a_slow_request_in_flight()
    {
        var server = await VaultTestServer.StartAsync();
        server.Fault = VaultFault.Slow;
        var pending = ReadAsync(server, "sys/health", null);
        await Task.Delay(200);

        var clock = Stopwatch.StartNew();
        await server.DisposeAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {clock.Elapsed}");
        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
        await Assert.ThrowsAsync<HttpRequestException>(() => ReadAsync(server, "sys/health", null));
    }

    [Fact]
    public async Task Requests_are_recorded_with_token_namespace_header_and_status()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.MountKv("secret", "ns1");

        await ReadAsync(server, "secret/data/agentidp/x?version=2", server.RootToken, ns: "ns1/");
        using (var plain = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Address, "v1/sys/health")))
        {
            using var response = await Http.SendAsync(plain);
        }

        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(new VaultRecordedRequest("GET", "/v1/secret/data/agentidp/x", "version=2", server.RootToken, "ns1/", true, 404), requests[0]);
        Assert.Equal(new VaultRecordedRequest("GET", "/v1/sys/health", null, null, null, false, 200), requests[1]);
        Assert.Matches(new Regex("^http://127\\.0\\.0\\.1:[0-9]+/$"), server.Address.ToString());
    }
}
