using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentIdp.Testing;
using Npgsql;

namespace AuthServer.Tests;

/// <summary>
/// Every answer of the token endpoints carries <c>Cache-Control: no-store</c> (RFC 6749 §5.1, §5.2),
/// including those written before OpenIddict sees the request (the request guard's rejections) and the
/// one written after something failed (the 500 handler): neither goes through OpenIddict, which adds it to its own.
/// </summary>
public sealed class NoStoreOnRejectionTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private static async Task AssertNoStoreErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(error, (await response.JsonAsync()).GetProperty("error").GetString());
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"expected Cache-Control: no-store, got \"{response.Headers.CacheControl}\"");
    }

    [Theory]
    [InlineData("/api/v1/token", "grant_type=client_credentials&grant_type=client_credentials")]
    [InlineData("/api/v1/token/introspect", "token=a&token=b")]
    [InlineData("/api/v1/token/revoke", "token=a&token=b")]
    public async Task A_repeated_parameter_is_refused_with_no_store(string path, string form)
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(form, Encoding.ASCII, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = OAuthRequests.Basic(agent.Id.ToString(), credential.ClientSecret);

        using var response = await fixture.Client.SendAsync(request);

        await AssertNoStoreErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task An_oversize_body_is_refused_with_no_store()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();

        using var response = await fixture.Client.PostFormAsync("/api/v1/token", agent.Id.ToString(), credential.ClientSecret,
            [new("grant_type", "client_credentials"), new("scope", new string('a', 1024 * 1024))]);

        await AssertNoStoreErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "invalid_request");
    }

    [Fact]
    public async Task An_oversize_body_without_a_length_is_refused_with_no_store()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        using var request = OAuthRequests.ChunkedOversizeTokenRequest(agent.Id.ToString(), credential.ClientSecret);

        using var response = await fixture.Client.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, response.StatusCode.ToString());
        await AssertNoStoreErrorAsync(response, response.StatusCode, "invalid_request");
    }

    [Fact]
    public async Task A_server_error_is_answered_with_no_store()
    {
        var (server, data, factory) = await AuthServerFactory.OnOwnDatabaseAsync();
        await using var _ = factory;
        var connectionString = data.ConnectionString;
        using var client = factory.CreateClient();
        var (agent, credential) = await data.CreateAgentWithCredentialAsync();
        using (var working = await client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret))
        {
            Assert.Equal(HttpStatusCode.OK, working.StatusCode);
        }

        // PostgreSQL goes away under the running server.
        await server.DropDatabaseAsync(connectionString);
        using var response = await client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);

        // UseExceptionHandler itself marks its answer no-cache,no-store (over what the handler sets): what counts is the answer.
        await AssertNoStoreErrorAsync(response, HttpStatusCode.InternalServerError, "server_error");
    }
}
