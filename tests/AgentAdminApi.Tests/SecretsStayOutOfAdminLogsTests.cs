using System.Net;
using System.Net.Http.Json;
using AgentIdp.Core.Secrets;
using Npgsql;

namespace AgentAdminApi.Tests;

public sealed class SecretsStayOutOfAdminLogsTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    [Fact]
    public async Task Managing_credentials_logs_no_secret_and_no_token()
    {
        var agent = await fixture.Data.CreateAgentAsync();
        using var generated = await fixture.Admin.PostAsJsonAsync($"/api/v1/agents/{agent.Id}/credentials", new { });
        var credential = await generated.JsonAsync();
        using var rotated = await fixture.Admin.PostAsync($"/api/v1/agents/{agent.Id}/credentials/{credential.GetProperty("credentialId").GetString()}/rotate", null);
        var secrets = new[] { credential.GetProperty("clientSecret").GetString()!, (await rotated.JsonAsync()).GetProperty("clientSecret").GetString()! };
        var token = fixture.Admin.DefaultRequestHeaders.Authorization!.Parameter!;

        var log = fixture.AdminApi.Logs.Text;

        Assert.NotEmpty(fixture.AdminApi.Logs.Entries);
        Assert.All(secrets, secret => Assert.DoesNotContain(secret[ClientSecret.RandomPartStart..], log));
        Assert.DoesNotContain(token.Split('.')[2], log);
        Assert.DoesNotContain(token.Split('.')[1], log);
    }
}
