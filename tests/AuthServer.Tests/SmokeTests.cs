using System.Net;

namespace AuthServer.Tests;

public sealed class SmokeTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task An_agent_gets_a_token()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var response = await fixture.Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
    }
}
