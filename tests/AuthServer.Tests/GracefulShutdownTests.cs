using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Secrets;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace AuthServer.Tests;

/// <summary>The AuthServer as its own process, stopped with SIGTERM as Kubernetes stops a pod, while it serves.</summary>
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    private const int ShutdownTimeoutSeconds = 20;

    /// <summary>How one request ended, seen from the client.</summary>
    private enum Ending
    {
        /// <summary>200 with a token the AuthServer's keys verify.</summary>
        Token,
        /// <summary>No answer at all: refused, or the connection closed before a byte of an answer (never accepted).</summary>
        NoAnswer,
        /// <summary>Anything else: another status, an answer cut short, a token that does not verify.</summary>
        Broken,
    }

    private sealed record Attempt(long Started, long Ended, Ending Ending, string Detail);

    [Fact]
    public async Task On_SIGTERM_every_accepted_token_request_is_answered_and_audited_and_the_process_exits_0()
    {
        var data = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync());
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        var (failing, failingCredential) = await data.CreateAgentWithCredentialAsync();

        await using var service = await ServiceProcess.StartAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = data.ConnectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            ["BCRYPT_COST"] = "4",
            ["TOKEN_RATE_LIMIT_PER_MINUTE"] = "0",
            ["SECRET_CACHE_TTL"] = "0",
            ["SECRET_VERIFY_QUEUE"] = "10000",
            ["SHUTDOWN_TIMEOUT_SECONDS"] = ShutdownTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging__LogLevel__OpenIddict"] = "Information", // a log entry within each request
        });
        using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var keys = new JsonWebKeySet(await client.GetStringAsync(new Uri("/.well-known/jwks", UriKind.Relative))).GetSigningKeys();

        // Failed authentications of one kind within a minute: the first is queued at once, the rest wait for their
        // window to close; shutting down closes it.
        const int failures = 5;
        for (var i = 0; i < failures; i++)
        {
            using var refused = await client.RequestTokenAsync(failing.Id.ToString(), ClientSecret.Generate(failingCredential.Credential.Id));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // Each worker has a request in the server at every moment (each one a full bcrypt check: no cache), so two
        // dozen are in flight when SIGTERM comes.
        var attempts = new System.Collections.Concurrent.ConcurrentBag<Attempt>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90)); // a bound on the load, whatever happens
        var workers = Enumerable.Range(0, 24).Select(_ => Task.Run(async () =>
        {
            // Each worker sends until the server no longer answers, then once more to see it is gone.
            var unanswered = 0;
            while (!stop.IsCancellationRequested && unanswered < 2)
            {
                var attempt = await RequestTokenAsync(client, agent.Id.ToString(), credential.ClientSecret, keys);
                attempts.Add(attempt);
                unanswered = attempt.Ending == Ending.NoAnswer ? unanswered + 1 : 0;
                if (attempt.Ending == Ending.NoAnswer)
                {
                    await Task.Delay(50);
                }
            }
        })).ToList();

        await WaitForAsync(() => attempts.Count(a => a.Ending == Ending.Token) >= 30, TimeSpan.FromSeconds(60));
        var signalled = Stopwatch.GetTimestamp();
        service.SignalTerm();
        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 15));
        var stoppedAfter = Stopwatch.GetElapsedTime(signalled);
        await Task.WhenAll(workers);

        output.WriteLine($"{attempts.Count(a => a.Ending == Ending.Token)} tokens, " +
            $"{attempts.Count(a => a.Ending == Ending.Token && a.Started < signalled && a.Ended > signalled)} of them in flight at SIGTERM, " +
            $"{attempts.Count(a => a.Ending == Ending.NoAnswer)} unanswered; stopped {stoppedAfter.TotalMilliseconds:0} ms after SIGTERM");
        Assert.True(exitCode == 0, $"exit code {exitCode?.ToString() ?? "none: still running"}\n{service.Output}");
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(ShutdownTimeoutSeconds), $"stopped after {stoppedAfter}");
        var broken = attempts.Where(a => a.Ending == Ending.Broken).ToList();
        Assert.True(broken.Count == 0, string.Join('\n', broken.Select(a => a.Detail).Distinct()));
        var tokens = attempts.Count(a => a.Ending == Ending.Token);
        // Requests that were being served when SIGTERM came were finished, not dropped.
        var drained = attempts.Count(a => a.Ending == Ending.Token && a.Started < signalled && a.Ended > signalled);
        Assert.True(drained > 0, $"no request was in flight at SIGTERM ({tokens} tokens)");
        Assert.Contains(attempts, a => a.Ending == Ending.NoAnswer && a.Started > signalled); // it did stop taking requests

        // Every token issued is in the audit log once, and so is every failed authentication, aggregated.
        await using var db = data.Open();
        Assert.Equal(tokens, await db.AuditEvents.CountAsync(e => e.Action == AuditActions.TokenIssued && e.AgentId == agent.Id));
        var failed = (await db.AuditEvents.Where(e => e.Action == AuditActions.AuthFailed).Select(e => e.Details).ToListAsync())
            .Select(details => JsonDocument.Parse(details).RootElement)
            .Where(details => details.GetProperty("claimedClientId").GetString() == failing.Id.ToString())
            .ToList();
        Assert.Equal(failures, failed.Sum(details => details.TryGetProperty("repeated", out var repeated) ? repeated.GetInt32() : 1));
        Assert.Contains(failed, details => details.TryGetProperty("repeated", out var repeated) && repeated.GetInt32() == failures - 1);

        // Its console log is JSON lines, and an entry written within a request names the request's trace and span.
        Assert.Matches("\"Scopes\":\\[\\{[^\\]]*\"SpanId\":\"[0-9a-f]{16}\",\"TraceId\":\"[0-9a-f]{32}\"", service.Output);
    }

    [Fact]
    public async Task A_malformed_shutdown_timeout_stops_the_start_naming_it()
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = "Host=127.0.0.1;Database=x",
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            ["SHUTDOWN_TIMEOUT_SECONDS"] = "0",
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("AuthServer cannot start: SHUTDOWN_TIMEOUT_SECONDS must be a number of seconds from 1 to 3600", outcome.Output);
    }

    private static async Task<Attempt> RequestTokenAsync(HttpClient client, string clientId, string secret, IList<SecurityKey> keys)
    {
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/token")
            {
                Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
                Headers = { Authorization = OAuthRequests.Basic(clientId, secret) },
            };
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
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return new Attempt(started, Stopwatch.GetTimestamp(), Ending.Broken, $"{(int)response.StatusCode}: {body}");
                }
                var token = JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString();
                var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
                {
                    IssuerSigningKeys = keys,
                    ValidIssuer = AuthServerFactory.Issuer,
                    ValidateAudience = false,
                });
                return new Attempt(started, Stopwatch.GetTimestamp(), validation.IsValid ? Ending.Token : Ending.Broken,
                    validation.Exception?.Message ?? "");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                return new Attempt(started, Stopwatch.GetTimestamp(), Ending.Broken, $"cut short after {(int)response.StatusCode}: {e.Message}");
            }
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan deadline)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < deadline, "the load did not get going");
            await Task.Delay(20);
        }
    }
}
