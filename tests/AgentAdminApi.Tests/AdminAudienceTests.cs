using System.Net;
using System.Net.Http.Headers;
using AgentIdp.Core.Agents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AgentAdminApi.Tests;

/// <summary>
/// The admin API accepts only tokens meant for it, whose <c>aud</c> holds ADMIN_AUDIENCE, on every route: a token
/// an agent asked for another API, or one meant for AUDIENCE as every token was before the admin API had an
/// audience of its own, is 401 with a Bearer challenge, whatever its scopes and whoever its subject.
/// </summary>
public sealed class AdminAudienceTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    public enum TokenKind { ForAnotherResource, ForAudience, OldStyleWithAdminScopes }

    /// <summary>Every route that needs a token, read from the admin API's own endpoints so that none is missed, its path ids filled in.</summary>
    private List<(string Method, string Path)> Routes(Guid agentId, Guid credentialId, Guid eventId)
    {
        var endpoints = fixture.AdminApi.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null);
        var routes = (
            from endpoint in endpoints
            from method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []
            select (method, "/" + endpoint.RoutePattern.RawText!.Trim('/')
                .Replace("{agentId}", agentId.ToString(), StringComparison.Ordinal)
                .Replace("{credentialId}", credentialId.ToString(), StringComparison.Ordinal)
                .Replace("{eventId}", eventId.ToString(), StringComparison.Ordinal))).ToList();
        Assert.DoesNotContain(routes, route => route.Item2.Contains('{', StringComparison.Ordinal));
        Assert.Superset(new HashSet<string>
        {
            $"POST /api/v1/agents", "GET /api/v1/agents", $"GET /api/v1/agents/{agentId}", $"PATCH /api/v1/agents/{agentId}",
            $"DELETE /api/v1/agents/{agentId}", $"POST /api/v1/agents/{agentId}/credentials", $"GET /api/v1/agents/{agentId}/credentials",
            $"POST /api/v1/agents/{agentId}/credentials/{credentialId}/rotate", $"DELETE /api/v1/agents/{agentId}/credentials/{credentialId}",
            "GET /api/v1/audit", $"GET /api/v1/audit/{eventId}",
        }, routes.Select(route => $"{route.Item1} {route.Item2}").ToHashSet());
        return routes;
    }

    private static HttpRequestMessage Request(string method, string path, string token)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (method is "POST" or "PATCH")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>A live token of <paramref name="kind"/> for an agent holding every admin capability and invoices:read.</summary>
    private async Task<(Agent Agent, Guid CredentialId, string Token)> TokenAsync(TokenKind kind)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync([.. AdminCapabilities.All, "invoices:read"]);
        var (id, secret) = (agent.Id.ToString(), credential.ClientSecret);
        string token;
        switch (kind)
        {
            case TokenKind.ForAnotherResource:
                using (var response = await fixture.OAuth.RequestTokenAsync(id, secret, scope: "invoices:read", resource: "https://other.example/"))
                {
                    token = (await response.JsonAsync()).GetProperty("access_token").GetString()!;
                }
                Assert.Equal(["https://other.example/"], new JsonWebToken(token).Audiences);
                break;
            case TokenKind.ForAudience:
                token = await fixture.OAuth.GetAccessTokenAsync(id, secret, scope: "invoices:read");
                Assert.Equal([AuthServerFactory.Audience], new JsonWebToken(token).Audiences);
                break;
            default:
                await using (var oldStyle = AuthServerFactory.IssuingOldStyleAdminTokens(fixture.Data.ConnectionString))
                {
                    using var client = oldStyle.CreateClient();
                    token = await client.GetAccessTokenAsync(id, secret, scope: string.Join(' ', AdminCapabilities.All));
                }
                var jwt = new JsonWebToken(token);
                Assert.Equal([AuthServerFactory.Audience], jwt.Audiences);
                Assert.Contains(AdminCapabilities.AgentsWrite, jwt.GetClaim("scope").Value);
                break;
        }
        return (agent, credential.Credential.Id, token);
    }

    [Theory]
    [InlineData(TokenKind.ForAnotherResource)]
    [InlineData(TokenKind.ForAudience)]
    [InlineData(TokenKind.OldStyleWithAdminScopes)]
    public async Task Every_route_refuses_a_token_not_meant_for_the_admin_API(TokenKind kind)
    {
        var (agent, credentialId, token) = await TokenAsync(kind);
        // The AuthServer writes its events a moment after the token: wait for one (the first test of a fresh fixture may not see it yet).
        var auditEvent = Guid.Parse(await TestData.EventuallyAsync(async () =>
        {
            var page = (await (await fixture.Admin.GetAsync("/api/v1/audit?limit=1")).JsonAsync()).GetProperty("data");
            return page.GetArrayLength() > 0 ? page[0].GetProperty("eventId").GetString() : null;
        }));
        // The token's own agent, credential and a real event: were the audience not checked, self-service or its scopes would let it through.
        var routes = Routes(agent.Id, credentialId, auditEvent);

        foreach (var (method, path) in routes)
        {
            using var response = await fixture.AdminApi.CreateClient().SendAsync(Request(method, path, token));

            await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            var challenge = Assert.Single(response.Headers.WwwAuthenticate);
            Assert.Equal("Bearer", challenge.Scheme);
            Assert.Contains("error=\"invalid_token\"", challenge.Parameter);
        }
        await using var db = fixture.Data.Open();
        Assert.Equal(AgentStatus.Active, (await db.Agents.FindAsync(agent.Id))!.Status);
        Assert.Equal(1, db.Credentials.Count(c => c.AgentId == agent.Id));
        Assert.Null((await db.Credentials.FindAsync(credentialId))!.RevokedAt);
    }

    [Fact]
    public async Task Every_route_lets_a_token_meant_for_the_admin_API_past_authentication()
    {
        // The control of the test above: the same requests, with the admin's token and ids nobody has, are never 401.
        var routes = Routes(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var token = fixture.Admin.DefaultRequestHeaders.Authorization!.Parameter!;
        Assert.Contains(AuthServerFactory.AdminAudience, new JsonWebToken(token).Audiences);

        foreach (var (method, path) in routes)
        {
            using var response = await fixture.AdminApi.CreateClient().SendAsync(Request(method, path, token));

            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{method} {path}: {response.StatusCode}");
        }
    }
}
