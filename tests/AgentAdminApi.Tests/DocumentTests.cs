using System.Net;
using System.Net.Http.Json;
using AgentIdp.Core.Secrets;
using Npgsql;

namespace AgentAdminApi.Tests;

public sealed class DocumentTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    [Fact]
    public async Task The_OpenAPI_document_lists_every_route_and_declares_the_bearer_scheme()
    {
        using var client = fixture.AdminApi.CreateClient();

        using var response = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.JsonAsync();
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Superset(new HashSet<string>
        {
            "/api/v1/agents", "/api/v1/agents/{agentId}", "/api/v1/agents/{agentId}/credentials",
            "/api/v1/agents/{agentId}/credentials/{credentialId}/rotate", "/api/v1/agents/{agentId}/credentials/{credentialId}",
            "/api/v1/audit", "/api/v1/audit/{eventId}",
        }, paths.ToHashSet());
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.Equal("bearer", document.GetProperty("security")[0].EnumerateObject().Single().Name);
        Assert.True(document.GetProperty("paths").GetProperty("/api/v1/agents").GetProperty("post").TryGetProperty("requestBody", out _));
    }

    [Theory]
    [InlineData("/api/v1/agents", "post", "agents:write", false)]
    [InlineData("/api/v1/agents/{agentId}", "get", "agents:read", true)]
    [InlineData("/api/v1/agents/{agentId}", "patch", "agents:write", false)]
    [InlineData("/api/v1/agents/{agentId}/credentials", "post", "agents:write", true)]
    [InlineData("/api/v1/agents/{agentId}/credentials/{credentialId}/rotate", "post", "agents:write", true)]
    [InlineData("/api/v1/audit", "get", "audit:read", false)]
    public async Task Each_route_names_the_scope_it_needs_and_self_service_routes_agents_self(string path, string method, string scope, bool selfService)
    {
        using var client = fixture.AdminApi.CreateClient();
        using var response = await client.GetAsync("/openapi/v1.json");

        var operation = (await response.JsonAsync()).GetProperty("paths").GetProperty(path).GetProperty(method);
        var alternatives = operation.GetProperty("security").EnumerateArray()
            .Select(requirement => requirement.GetProperty("bearer").EnumerateArray().Select(role => role.GetString()).Single()).ToList();
        Assert.Equal(selfService ? [scope, "agents:self"] : [scope], alternatives);
        var description = operation.GetProperty("description").GetString();
        Assert.Contains($"`{scope}`", description);
        Assert.Equal(selfService, description!.Contains("`agents:self`", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_browsable_reference_is_served_in_development_only()
    {
        using var testing = await fixture.AdminApi.CreateClient().GetAsync("/scalar/v1");
        await using var development = new AdminApiFactory(fixture.Data.ConnectionString, fixture.AuthServer.Server.CreateHandler(), environment: "Development");
        using var page = await development.CreateClient().GetAsync("/scalar/v1");

        Assert.Equal(HttpStatusCode.Unauthorized, testing.StatusCode); // no such route: the fallback policy asks for a token
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("text/html", page.Content.Headers.ContentType?.ToString());
    }
}
