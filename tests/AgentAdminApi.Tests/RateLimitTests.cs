using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AgentIdp.Core.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentAdminApi.Tests;

public sealed class RateLimitTests(RateLimitedAdminApiFixture fixture) : IClassFixture<RateLimitedAdminApiFixture>
{
    [Fact]
    public async Task A_caller_over_its_rate_gets_429_RATE_LIMIT_EXCEEDED_and_others_are_unaffected()
    {
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            responses.Add(await fixture.Admin.GetAsync($"/api/v1/agents/{fixture.AdminAgent.Id}"));
        }
        var (_, _, other) = await fixture.AgentAsync(scope: AdminCapabilities.AgentsSelf);
        using var otherResponse = await other.GetAsync("/api/v1/audit");

        Assert.All(responses.Take(3), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await responses[3].ProblemAsync(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.True(responses[3].Headers.RetryAfter?.Delta > TimeSpan.Zero);
        await otherResponse.ProblemAsync(HttpStatusCode.Forbidden, "FORBIDDEN"); // its own budget, and its own rights
        using var health = await fixture.AdminApi.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
