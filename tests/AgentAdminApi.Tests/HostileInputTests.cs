using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using AgentIdp.Core.Agents;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

/// <summary>What a black-box review sent the admin API: each answer is a 4xx problem document, never a 500, and stores nothing.</summary>
public sealed class HostileInputTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private static ByteArrayContent RawJson(byte[] bytes) => new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    [Theory]
    [InlineData("email")]
    [InlineData("version")]
    [InlineData("owner")]
    [InlineData("agentType")]
    [InlineData("deploymentEnv")]
    public async Task A_lone_surrogate_in_a_string_field_is_a_validation_error_naming_it(string field)
    {
        var agent = await fixture.Admin.RegisterAsync();
        var id = agent.GetProperty("agentId").GetString();

        using var patch = await fixture.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/agents/{id}")
        {
            Content = RawJson(Utf8($"{{\"{field}\":\"\\ud800\"}}")),
        });

        Assert.Contains(field, await patch.ValidationErrorsAsync());
    }

    [Fact]
    public async Task A_lone_surrogate_in_a_capability_or_a_property_name_is_a_validation_error()
    {
        var agent = await fixture.Admin.RegisterAsync();
        var id = agent.GetProperty("agentId").GetString();

        using var capability = await fixture.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/agents/{id}")
        {
            Content = RawJson(Utf8("{\"capabilities\":[\"invoices:read\",\"\\udc00\"]}")),
        });
        using var name = await fixture.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/agents/{id}")
        {
            Content = RawJson(Utf8("{\"\\ud800\":\"x\"}")),
        });

        Assert.NotEmpty(await capability.ValidationErrorsAsync());
        Assert.NotEmpty(await name.ValidationErrorsAsync());
    }

    [Fact]
    public async Task Invalid_utf8_in_a_body_is_a_validation_error_and_creates_nothing()
    {
        var agent = await fixture.Admin.RegisterAsync();
        var id = Guid.Parse(agent.GetProperty("agentId").GetString()!);
        byte[] body = [.. Utf8("{\"expiresAt\":\""), 0xff, .. Utf8("\"}")];

        using var response = await fixture.Admin.PostAsync($"/api/v1/agents/{id}/credentials", RawJson(body));

        Assert.NotEmpty(await response.ValidationErrorsAsync());
        await using var db = fixture.Data.Open();
        Assert.Equal(0, await db.Credentials.CountAsync(c => c.AgentId == id));
    }

    [Fact]
    public async Task Responses_that_carry_a_secret_are_never_stored()
    {
        var agent = await fixture.Admin.RegisterAsync();
        var id = agent.GetProperty("agentId").GetString();

        using var created = await fixture.Admin.PostAsync($"/api/v1/agents/{id}/credentials", null);
        var credentialId = (await created.JsonAsync()).GetProperty("credentialId").GetString();
        using var rotated = await fixture.Admin.PostAsync($"/api/v1/agents/{id}/credentials/{credentialId}/rotate", null);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "a created credential's secret must not be cached");
        Assert.True(rotated.Headers.CacheControl?.NoStore, "a rotated credential's secret must not be cached");
    }

    [Theory]
    [InlineData("{0}")]
    [InlineData("({0})")]
    [InlineData("N")]
    [InlineData("UPPER")]
    public async Task A_path_id_not_in_canonical_form_is_not_found(string form)
    {
        var agent = await fixture.Admin.RegisterAsync();
        var id = Guid.Parse(agent.GetProperty("agentId").GetString()!);
        var spelled = form switch
        {
            "N" => id.ToString("N"),
            "UPPER" => id.ToString("D").ToUpperInvariant(),
            _ => string.Format(System.Globalization.CultureInfo.InvariantCulture, form == "{0}" ? "{{{0}}}" : "({0})", id),
        };

        using var get = await fixture.Admin.GetAsync($"/api/v1/agents/{spelled}");
        using var delete = await fixture.Admin.DeleteAsync($"/api/v1/agents/{spelled}");

        await get.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
        await delete.ProblemAsync(HttpStatusCode.NotFound, "AGENT_NOT_FOUND");
        await using var db = fixture.Data.Open();
        Assert.Equal(AgentStatus.Active, (await db.Agents.SingleAsync(a => a.Id == id)).Status);
    }

    [Fact]
    public async Task A_token_stops_at_the_admin_API_when_it_expires_with_its_credential()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        var credential = await fixture.Data.IssueCredentialAsync(agent.Id, expiresAt: DateTimeOffset.UtcNow.AddSeconds(3));
        using var client = await fixture.ClientAsync(agent.Id, credential.ClientSecret, scope: AdminCapabilities.AgentsSelf);
        using var before = await client.GetAsync($"/api/v1/agents/{agent.Id}");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await Task.Delay(credential.Credential.ExpiresAt!.Value - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5));
        using var after = await client.PostAsync($"/api/v1/agents/{agent.Id}/credentials", null);

        await after.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await using var db = fixture.Data.Open();
        Assert.Equal(1, await db.Credentials.CountAsync(c => c.AgentId == agent.Id));
    }

    [Fact]
    public async Task An_oversized_chunked_body_gets_the_same_problem_as_an_oversized_declared_one_on_Kestrel()
    {
        // Kestrel, not the in-memory test server: only Kestrel enforces the request body limit while reading.
        await using var kestrel = new AdminApiFactory(fixture.Data.ConnectionString, fixture.AuthServer.Server.CreateHandler());
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        using var client = kestrel.CreateClient();
        client.DefaultRequestHeaders.Authorization = fixture.Admin.DefaultRequestHeaders.Authorization;
        var huge = Utf8($"{{\"owner\":\"{new string('x', 70 * 1024)}\"}}");

        using var declared = await client.PostAsync("/api/v1/agents", RawJson(huge));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents")
        {
            Content = new StreamContent(new MemoryStream(huge)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.TransferEncodingChunked = true;
        using var chunked = await client.SendAsync(request);

        Assert.Equal(["body"], await declared.ValidationErrorsAsync());
        Assert.Equal(["body"], await chunked.ValidationErrorsAsync());
    }
}
