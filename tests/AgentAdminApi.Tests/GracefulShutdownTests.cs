using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AuthServer;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace AgentAdminApi.Tests;

/// <summary>The admin API as its own process (beside an AuthServer process whose keys it fetches), stopped with SIGTERM while it serves.</summary>
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    private const int ShutdownTimeoutSeconds = 20;

    private enum Ending { Created, NoAnswer, Broken }

    private sealed record Attempt(long Started, long Ended, Ending Ending, string Detail);

    [Fact]
    public async Task On_SIGTERM_every_accepted_admin_call_is_answered_and_audited_and_the_process_exits_0()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var (admin, credential) = await data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        var issuer = FreeLocalAddress();
        var common = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = data.ConnectionString,
            ["ISSUER"] = issuer.ToString(),
            ["BCRYPT_COST"] = "4",
            ["SHUTDOWN_TIMEOUT_SECONDS"] = ShutdownTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        };
        await using var authServer = await ServiceProcess.StartAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>(common)
        {
            ["ASPNETCORE_URLS"] = issuer.ToString().TrimEnd('/'),
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
        });
        await using var adminApi = await ServiceProcess.StartAsync(typeof(AgentAdminApiApplication).Assembly.Location, new Dictionary<string, string?>(common)
        {
            ["ADMIN_RATE_LIMIT_PER_MINUTE"] = "0",
        });
        using var oauth = new HttpClient { BaseAddress = authServer.BaseAddress };
        using var client = new HttpClient { BaseAddress = adminApi.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            await oauth.GetAccessTokenAsync(admin.Id.ToString(), credential.ClientSecret));

        var attempts = new System.Collections.Concurrent.ConcurrentBag<Attempt>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var workers = Enumerable.Range(0, 12).Select(_ => Task.Run(async () =>
        {
            var unanswered = 0;
            while (!stop.IsCancellationRequested && unanswered < 2)
            {
                var attempt = await RegisterAgentAsync(client);
                attempts.Add(attempt);
                unanswered = attempt.Ending == Ending.NoAnswer ? unanswered + 1 : 0;
                if (attempt.Ending == Ending.NoAnswer)
                {
                    await Task.Delay(50);
                }
            }
        })).ToList();

        var started = Stopwatch.GetTimestamp();
        while (attempts.Count(a => a.Ending == Ending.Created) < 20)
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(60), "the load did not get going");
            await Task.Delay(20);
        }
        var signalled = Stopwatch.GetTimestamp();
        adminApi.SignalTerm();
        var exitCode = await adminApi.WaitForExitAsync(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 15));
        var stoppedAfter = Stopwatch.GetElapsedTime(signalled);
        await Task.WhenAll(workers);

        var created = attempts.Count(a => a.Ending == Ending.Created);
        var drained = attempts.Count(a => a.Ending == Ending.Created && a.Started < signalled && a.Ended > signalled);
        output.WriteLine($"{created} agents created, {drained} of them in flight at SIGTERM; stopped {stoppedAfter.TotalMilliseconds:0} ms after SIGTERM");
        Assert.True(exitCode == 0, $"exit code {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "none: still running"}\n{adminApi.Output}");
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(ShutdownTimeoutSeconds), $"stopped after {stoppedAfter}");
        var broken = attempts.Where(a => a.Ending == Ending.Broken).ToList();
        Assert.True(broken.Count == 0, string.Join('\n', broken.Select(a => a.Detail).Distinct()));
        Assert.True(drained > 0, $"no call was in flight at SIGTERM ({created} created)");

        // The admin API audits in the transaction that makes the change: every agent answered 201 exists and is
        // audited once, and nothing unanswered was half done.
        await using var db = data.Open();
        Assert.Equal(created, await db.Agents.CountAsync(a => a.Id != admin.Id));
        Assert.Equal(created, await db.AuditEvents.CountAsync(e => e.Action == AuditActions.AgentCreated));
    }

    private static async Task<Attempt> RegisterAgentAsync(HttpClient client)
    {
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents")
            {
                Content = JsonContent.Create(AdminApiRequests.NewAgent(owner: "team-tests", deploymentEnv: "development")),
            };
            // Headers first: a body cut short after them is told apart from no answer at all.
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (HttpRequestException e)
        {
            return new Attempt(started, Stopwatch.GetTimestamp(), Ending.NoAnswer, e.Message);
        }
        using (response)
        {
            try
            {
                var body = await response.Content.ReadAsStringAsync();
                var complete = response.StatusCode == HttpStatusCode.Created &&
                    JsonDocument.Parse(body).RootElement.TryGetProperty("agentId", out _);
                return new Attempt(started, Stopwatch.GetTimestamp(), complete ? Ending.Created : Ending.Broken, $"{(int)response.StatusCode}: {body}");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                return new Attempt(started, Stopwatch.GetTimestamp(), Ending.Broken, $"cut short after {(int)response.StatusCode}: {e.Message}");
            }
        }
    }

    /// <summary>An address on a port that was free a moment ago: the AuthServer's, known before it starts because it is its ISSUER.</summary>
    private static Uri FreeLocalAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
    }
}
