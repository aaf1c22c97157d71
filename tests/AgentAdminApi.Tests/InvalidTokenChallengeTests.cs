using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using AgentIdp.Core.Agents;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentAdminApi.Tests;

/// <summary>
/// RFC 6750 §3.1: a request that presents a bearer token the server cannot accept (malformed, signed by
/// another key, for another audience, revoked) is challenged with <c>error="invalid_token"</c>, so the
/// client knows to get a new token; a request that presents none gets a bare <c>Bearer</c> challenge.
/// </summary>
public sealed class InvalidTokenChallengeTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private async Task<AuthenticationHeaderValue> ChallengeAsync(string? authorization)
    {
        using var response = await fixture.GetAgentsWithAsync(authorization);
        await response.ProblemAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        return challenge;
    }

    private static void AssertInvalidToken(AuthenticationHeaderValue challenge) =>
        Assert.Matches("""(^|,\s*)error="invalid_token"(\s*,|$)""", challenge.Parameter ?? "");

    private async Task<(Agent Agent, string Secret)> AdminAsync()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        return (agent, credential.ClientSecret);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Basic YWJjOmRlZg==")]
    public async Task A_request_without_a_bearer_token_gets_a_bare_Bearer_challenge(string? authorization)
    {
        var challenge = await ChallengeAsync(authorization);

        Assert.Null(challenge.Parameter); // no error code: the request carried no token to be wrong (RFC 6750 §3.1)
    }

    [Theory]
    [InlineData("Bearer not.a.jwt")]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.e30.")]
    public async Task A_malformed_token_is_challenged_as_invalid_token(string authorization)
    {
        AssertInvalidToken(await ChallengeAsync(authorization));
    }

    [Fact]
    public async Task A_token_signed_by_another_key_is_challenged_as_invalid_token()
    {
        var (agent, secret) = await AdminAsync();
        var real = new JsonWebToken(await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), secret));
        var forged = AdminApiRequests.SignedByAnotherKey(real);

        AssertInvalidToken(await ChallengeAsync($"Bearer {forged}"));
    }

    [Fact]
    public async Task A_token_for_another_audience_is_challenged_as_invalid_token()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync([.. AdminCapabilities.All, "payments:read"]);
        using var tokenResponse = await fixture.OAuth.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret, scope: "payments:read",
            resource: "https://payments.example.com/");
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        var token = (await tokenResponse.JsonAsync()).GetProperty("access_token").GetString();

        AssertInvalidToken(await ChallengeAsync($"Bearer {token}"));
    }

    [Fact]
    public async Task A_revoked_token_is_challenged_as_invalid_token()
    {
        var (agent, secret) = await AdminAsync();
        var token = await fixture.OAuth.GetAccessTokenAsync(agent.Id.ToString(), secret);
        using (var revoke = await fixture.OAuth.RevokeAsync(agent.Id.ToString(), secret, token))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        AssertInvalidToken(await ChallengeAsync($"Bearer {token}"));
    }
}
