using AgentIdp.Testing;
using Duende.IdentityModel.Client;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests;

/// <summary>A real third-party OAuth client library, used as its documentation shows, must just work.</summary>
public sealed class ClientLibraryTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Theory]
    [InlineData(ClientCredentialStyle.AuthorizationHeader)]
    [InlineData(ClientCredentialStyle.PostBody)]
    public async Task Duende_IdentityModel_gets_a_token_through_discovery(ClientCredentialStyle style)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync(["invoices:read", "invoices:write"]);
        var client = fixture.Client;

        var discovery = await client.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest
        {
            Address = "http://localhost",
            Policy = { RequireHttps = false },
        });
        Assert.False(discovery.IsError, discovery.Error);

        var response = await client.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = discovery.TokenEndpoint,
            ClientId = agent.Id.ToString(),
            ClientSecret = credential.ClientSecret,
            ClientCredentialStyle = style,
            Scope = "invoices:read",
        });

        Assert.False(response.IsError, response.Error);
        Assert.Equal("Bearer", response.TokenType);
        Assert.InRange(response.ExpiresIn, 3598, 3600);
        Assert.Equal("invoices:read", new JsonWebToken(response.AccessToken).GetClaim("scope").Value);

        var introspection = await client.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = discovery.IntrospectionEndpoint,
            ClientId = agent.Id.ToString(),
            ClientSecret = credential.ClientSecret,
            Token = response.AccessToken!,
        });
        // This agent lacks tokens:read: the library reports the refusal as an error, not as an inactive token.
        Assert.True(introspection.IsError);

        var revocation = await client.RevokeTokenAsync(new TokenRevocationRequest
        {
            Address = discovery.RevocationEndpoint,
            ClientId = agent.Id.ToString(),
            ClientSecret = credential.ClientSecret,
            Token = response.AccessToken!,
        });
        Assert.False(revocation.IsError, revocation.Error);
    }

    [Fact]
    public async Task Duende_IdentityModel_reads_the_error_of_a_wrong_secret()
    {
        var (agent, _) = await fixture.Data.CreateAgentWithCredentialAsync();

        var response = await fixture.Client.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "http://localhost/api/v1/token",
            ClientId = agent.Id.ToString(),
            ClientSecret = "aidp_wrong",
        });

        Assert.True(response.IsError);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.HttpStatusCode);
        Assert.Equal("invalid_client", response.Json?.GetProperty("error").GetString());
    }
}
