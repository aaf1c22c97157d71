using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AgentAdminApi.Credentials;
using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Vault.Tests;

/// <summary>
/// A credential write whose Vault write fails, or lands with its answer lost, settles its cleanup entry
/// within the request when Vault lets it destroy the path: right after the answer, with no cleanup pass run,
/// the queue is empty and Vault holds nothing at a new credential's path (a rotated credential's path, which
/// the credential still names, is kept). When the destroy fails too, the pass finishes the job: VaultConsistencyTests.
/// </summary>
public sealed class VaultWriteFailureSettlesTests : IAsyncLifetime
{
    private const string KvWrites = "/v1/secret/data/";
    private const string KvDestroys = "/v1/secret/metadata/";

    private VaultTestServer _server = null!;
    private VaultEnvironment _env = null!;
    private Stopwatch _sinceStart = null!;

    public async Task InitializeAsync()
    {
        _server = await VaultTestServer.StartAsync();
        _sinceStart = Stopwatch.StartNew(); // before the admin API starts, and with it the cleanup pass's timer
        _env = await VaultEnvironment.StartAsync(new TestServerTarget(_server));
    }

    public async Task DisposeAsync()
    {
        await _env.DisposeAsync();
        await _server.DisposeAsync();
    }

    /// <summary>
    /// The cleanup pass first runs one <see cref="VaultCleanupPass.Interval"/> after the admin API starts (and
    /// then takes only entries older than its grace period): a test that checked within the interval saw
    /// what the request alone left.
    /// </summary>
    private void AssertTheCleanupPassCannotHaveRun() =>
        Assert.True(_sinceStart.Elapsed < VaultCleanupPass.Interval, $"the test took {_sinceStart.Elapsed}: a cleanup pass may have run");

    private async Task<int> QueuedAsync()
    {
        await using var db = _env.Data.Open();
        return await db.VaultCleanupQueue.CountAsync();
    }

    [Theory]
    [InlineData(VaultFault.Forbidden)] // refused at once
    [InlineData(VaultFault.Sealed)]    // refused on every retry
    [InlineData(VaultFault.Down)]      // never reached
    [InlineData(VaultFault.AnswerLost)] // landed, on every retry, and the caller never heard
    public async Task A_new_credential_whose_Vault_write_fails_leaves_no_queue_entry_and_no_secret(VaultFault writeFault)
    {
        var agent = await _env.Data.CreateAgentAsync();
        _server.FaultRules = [new("POST", KvWrites, writeFault)];

        using var response = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });

        _server.FaultRules = [];
        var requests = _server.Requests;
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("VAULT_WRITE_ERROR", (await response.JsonAsync()).GetProperty("code").GetString());
        var write = requests.First(r => r.Method == "POST" && r.Path.Contains($"/agents/{agent.Id}/credentials/", StringComparison.Ordinal));
        var path = write.Path[KvWrites.Length..];
        Assert.Equal(0, await QueuedAsync());
        Assert.Null(_server.Get("secret", path));
        // Settled by the request itself: it destroyed the path after its last write attempt.
        var lastWrite = requests.ToList().FindLastIndex(r => r.Method == "POST" && r.Path == KvWrites + path);
        var destroy = requests.ToList().FindIndex(r => r.Method == "DELETE" && r.Path == KvDestroys + path && r.Status == 204);
        Assert.True(destroy > lastWrite,
            "Vault saw no destroy after the last write: " + string.Join("; ", requests.Select(r => $"{r.Method} {r.Path} {r.Status}")));
        await using var db = _env.Data.Open();
        Assert.Equal(0, await db.Credentials.CountAsync(c => c.AgentId == agent.Id));
        AssertTheCleanupPassCannotHaveRun();
    }

    [Theory]
    [InlineData(VaultFault.Forbidden)]
    [InlineData(VaultFault.AnswerLost)]
    public async Task A_rotation_whose_Vault_write_fails_leaves_no_queue_entry_and_the_credential_as_it_was(VaultFault writeFault)
    {
        var agent = await _env.Data.CreateAgentAsync();
        using var created = await _env.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var credentialId = Guid.Parse(body.GetProperty("credentialId").GetString()!);
        var secret = body.GetProperty("clientSecret").GetString()!;
        var path = VaultEnvironment.SecretPath(agent.Id, credentialId);

        _server.FaultRules = [new("POST", KvWrites, writeFault)];
        var before = _server.Requests.Count;

        using var rotate = await _env.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{credentialId}/rotate", null);

        _server.FaultRules = [];
        Assert.Equal(HttpStatusCode.InternalServerError, rotate.StatusCode);
        Assert.Equal("VAULT_WRITE_ERROR", (await rotate.JsonAsync()).GetProperty("code").GetString());
        // The request settled its entry at once; an active credential names the path, so nothing was destroyed.
        Assert.Equal(0, await QueuedAsync());
        Assert.DoesNotContain(_server.Requests.Skip(before), r => r.Method == "DELETE");
        var stored = _server.Get("secret", path);
        Assert.NotNull(stored);
        Assert.Equal(secret, stored.Versions[1].Data!["clientSecret"]);
        if (writeFault == VaultFault.AnswerLost)
        {
            Assert.True(stored.CurrentVersion > 1, "the writes whose answers were lost landed"); // beside version 1, named by nothing
        }
        else
        {
            Assert.Equal(1, stored.CurrentVersion);
        }
        await using (var db = _env.Data.Open())
        {
            Assert.Equal(1, (await db.Credentials.SingleAsync(c => c.Id == credentialId)).VaultVersion);
        }
        AssertTheCleanupPassCannotHaveRun();
        using var token = await _env.OAuth.RequestTokenAsync(agent.Id.ToString(), secret);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
    }
}
