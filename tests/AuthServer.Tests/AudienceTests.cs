using System.Net;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests;

/// <summary>
/// A token's audience follows from its scopes, as in Duende IdentityServer: the admin API's scopes belong to
/// ADMIN_AUDIENCE, every other scope to the requested resources or else AUDIENCE. And agents:self, which every
/// agent may ask for, is in a token only when asked for.
/// </summary>
public sealed class AudienceTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private const string Admin = AuthServerFactory.AdminAudience;
    private const string Default = AuthServerFactory.Audience;

    private static string[] Words(string? text) => text?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    private async Task<HttpResponseMessage> RequestAsync(string capabilities, string? scope, string? resources)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(Words(capabilities));
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scope is not null)
        {
            form.Add(new("scope", scope));
        }
        form.AddRange(Words(resources).Select(resource => new KeyValuePair<string, string>("resource", resource)));
        return await fixture.Client.PostFormAsync("/api/v1/token", agent.Id.ToString(), credential.ClientSecret, form);
    }

    /// <summary>The access token of a 200 answer, and the answer's <c>scope</c>.</summary>
    private static async Task<(JsonWebToken Token, string? Scope)> GrantedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var body = JsonDocument.Parse(text).RootElement;
        return (new JsonWebToken(body.GetProperty("access_token").GetString()), body.GetProperty("scope").GetString());
    }

    [Theory]
    // capabilities, requested scope (null: none), requested resources (null: none), expected aud
    [InlineData("agents:read invoices:read", "agents:read", null, Admin)]
    [InlineData("agents:read invoices:read", "agents:read invoices:read", null, Admin + " " + Default)]
    [InlineData("agents:read invoices:read", "invoices:read", null, Default)]
    [InlineData("agents:read invoices:read", "invoices:read", "https://invoices.example/", "https://invoices.example/")]
    [InlineData("agents:read invoices:read", "agents:read", "https://invoices.example/", "https://invoices.example/ " + Admin)]
    [InlineData("agents:read invoices:read", "agents:read invoices:read", "https://one.example/ https://two.example/", "https://one.example/ https://two.example/ " + Admin)]
    [InlineData("agents:read invoices:read", "invoices:read", Admin, Admin)]
    [InlineData("agents:read invoices:read", "agents:read", Admin, Admin)]
    [InlineData("agents:read invoices:read", "invoices:read", Default, Default)]
    [InlineData("invoices:read", "agents:self", null, Admin)]
    [InlineData("invoices:read", "agents:self invoices:read", null, Admin + " " + Default)]
    [InlineData("invoices:read", "agents:self invoices:read", "https://invoices.example/", "https://invoices.example/ " + Admin)]
    [InlineData("tokens:read audit:read agents:write", "tokens:read", null, Admin)]
    // Without scope, the agent's capabilities decide the same way.
    [InlineData("invoices:read invoices:write", null, null, Default)]
    [InlineData("agents:read agents:write tokens:read audit:read", null, null, Admin)]
    [InlineData("agents:read invoices:read", null, null, Admin + " " + Default)]
    [InlineData("agents:read invoices:read", null, "https://invoices.example/", "https://invoices.example/ " + Admin)]
    [InlineData("invoices:read", null, "https://invoices.example/", "https://invoices.example/")]
    public async Task The_admin_APIs_scopes_bring_ADMIN_AUDIENCE_and_other_scopes_the_resources_or_AUDIENCE(
        string capabilities, string? scope, string? resources, string expected)
    {
        using var response = await RequestAsync(capabilities, scope, resources);

        var (token, _) = await GrantedAsync(response);
        Assert.Equal(Words(expected).Order(), token.Audiences.Order());
    }

    [Fact]
    public async Task The_audience_names_may_be_requested_as_resources_but_other_names_must_be_absolute_uris()
    {
        using var admin = await RequestAsync("invoices:read", null, Admin);
        using var other = await RequestAsync("invoices:read", null, "agentidp-other");
        using var file = await RequestAsync("invoices:read", null, "/etc/agentidp");

        Assert.Equal([Admin], (await GrantedAsync(admin)).Token.Audiences);
        foreach (var refused in new[] { other, file })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("invalid_request", (await refused.JsonAsync()).GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task Any_active_agent_gets_agents_self_on_request_without_holding_it()
    {
        using var response = await RequestAsync("invoices:read", AdminCapabilities.AgentsSelf, null);

        var (token, scope) = await GrantedAsync(response);
        Assert.Equal(AdminCapabilities.AgentsSelf, scope);
        Assert.Equal(AdminCapabilities.AgentsSelf, token.GetClaim("scope").Value);
    }

    [Fact]
    public async Task Asking_for_agents_self_does_not_make_other_scopes_requestable()
    {
        using var response = await RequestAsync("invoices:read", $"{AdminCapabilities.AgentsSelf} {AdminCapabilities.AgentsWrite}", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("invalid_scope", body.GetProperty("error").GetString());
        var description = body.GetProperty("error_description").GetString();
        Assert.Contains(AdminCapabilities.AgentsWrite, description);
        Assert.DoesNotContain(AdminCapabilities.AgentsSelf, description);
    }

    [Theory]
    [InlineData("invoices:read invoices:write")]
    [InlineData("agents:read agents:write tokens:read audit:read")]
    [InlineData("invoices:read agents:self")] // stored before the admin API refused it as a capability: still not granted unasked
    public async Task A_token_requested_without_scope_never_carries_agents_self(string capabilities)
    {
        using var response = await RequestAsync(capabilities, null, null);

        var (token, _) = await GrantedAsync(response);
        var granted = Words(token.GetClaim("scope").Value);
        Assert.DoesNotContain(AdminCapabilities.AgentsSelf, granted);
        Assert.Equal(Words(capabilities).Where(c => c != AdminCapabilities.AgentsSelf).Order(), granted.Order());
    }

    [Theory]
    [InlineData("agentidp", null, "ADMIN_AUDIENCE must differ from AUDIENCE")]
    [InlineData("https://idp.example/", "https://idp.example/", "ADMIN_AUDIENCE must differ from AUDIENCE")]
    [InlineData(" ", null, "ADMIN_AUDIENCE must not be empty")]
    public async Task An_ADMIN_AUDIENCE_that_is_empty_or_is_AUDIENCE_stops_the_start_naming_it(string adminAudience, string? audience, string message)
    {
        var outcome = await ServiceProcess.RunAsync(typeof(AuthServerApplication).Assembly.Location, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = fixture.Data.ConnectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
            ["ADMIN_AUDIENCE"] = adminAudience,
            ["AUDIENCE"] = audience,
        }, TimeSpan.FromSeconds(30));

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains($"AuthServer cannot start: {message}", outcome.Output);
    }
}
