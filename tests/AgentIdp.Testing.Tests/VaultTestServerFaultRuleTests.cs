using System.Net;
using System.Net.Http.Json;
using AgentIdp.Testing.Vault;

namespace AgentIdp.Testing.Tests;

/// <summary>The Vault test server's faults for some requests only (<see cref="VaultTestServer.FaultRules"/>), and a lost answer.</summary>
public sealed class VaultTestServerFaultRuleTests
{
    private static readonly HttpClient Http = new();

    private static async Task<HttpStatusCode> SendAsync(VaultTestServer server, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(server.Address, "v1/" + path))
        {
            Content = body is null ? null : JsonContent.Create(body),
        };
        request.Headers.Add("X-Vault-Token", server.RootToken);
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    private static Task<HttpStatusCode> WriteAsync(VaultTestServer server, string path, string value) =>
        SendAsync(server, HttpMethod.Post, "secret/data/" + path, new { data = new { clientSecret = value } });

    [Fact]
    public async Task A_rule_faults_only_the_requests_it_matches_and_the_first_matching_rule_wins()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Put("secret", "agentidp/x", new Dictionary<string, string> { ["clientSecret"] = "one" });
        server.FaultRules =
        [
            new("post", "/v1/secret/data/agentidp/", VaultFault.Forbidden),
            new("POST", "/v1/secret/data/", VaultFault.Sealed),
        ];

        var refused = await WriteAsync(server, "agentidp/x", "two");
        var otherPrefix = await WriteAsync(server, "elsewhere/y", "three");
        var read = await SendAsync(server, HttpMethod.Get, "secret/data/agentidp/x");
        var destroy = await SendAsync(server, HttpMethod.Delete, "secret/metadata/agentidp/x");

        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, otherPrefix);
        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal(HttpStatusCode.NoContent, destroy);
        Assert.Null(server.Get("secret", "agentidp/x"));
        Assert.Null(server.Get("secret", "elsewhere/y"));
    }

    [Fact]
    public async Task A_rule_takes_precedence_over_the_server_wide_fault_and_clearing_the_rules_restores_it()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.Fault = VaultFault.Forbidden;
        server.FaultRules = [new("POST", "/v1/secret/data/", VaultFault.None)];

        var written = await WriteAsync(server, "agentidp/x", "one");
        var read = await SendAsync(server, HttpMethod.Get, "secret/data/agentidp/x");
        server.FaultRules = [];
        var writtenAfter = await WriteAsync(server, "agentidp/x", "two");

        Assert.Equal(HttpStatusCode.OK, written);
        Assert.Equal(HttpStatusCode.Forbidden, read);
        Assert.Equal(HttpStatusCode.Forbidden, writtenAfter);
        Assert.Equal(1, server.Get("secret", "agentidp/x")!.CurrentVersion);
    }

    [Fact]
    public async Task A_lost_answer_drops_the_connection_after_the_write_landed()
    {
        await using var server = await VaultTestServer.StartAsync();
        server.FaultRules = [new("POST", "/v1/secret/data/", VaultFault.AnswerLost)];

        await Assert.ThrowsAsync<HttpRequestException>(() => WriteAsync(server, "agentidp/x", "one"));

        var stored = server.Get("secret", "agentidp/x");
        Assert.NotNull(stored);
        Assert.Equal("one", stored.Versions[stored.CurrentVersion].Data!["clientSecret"]);
        var request = Assert.Single(server.Requests);
        Assert.Equal(("POST", "/v1/secret/data/agentidp/x", 0), (request.Method, request.Path, request.Status));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(server, HttpMethod.Get, "secret/data/agentidp/x")); // only the write is affected
    }
}
