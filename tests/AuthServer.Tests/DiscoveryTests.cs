using AgentIdp.Testing;
using System.Net;
using System.Text.Json;

namespace AuthServer.Tests;

public sealed class DiscoveryTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Theory]
    [InlineData("/.well-known/oauth-authorization-server")]
    [InlineData("/.well-known/openid-configuration")]
    public async Task Discovery_documents_describe_the_server_at_both_well_known_paths(string path)
    {
        using var response = await fixture.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.JsonAsync();
        Assert.Equal(AuthServerFactory.Issuer, document.GetProperty("issuer").GetString());
        Assert.Equal("http://localhost/api/v1/token", document.GetProperty("token_endpoint").GetString());
        Assert.Equal("http://localhost/api/v1/token/introspect", document.GetProperty("introspection_endpoint").GetString());
        Assert.Equal("http://localhost/api/v1/token/revoke", document.GetProperty("revocation_endpoint").GetString());
        Assert.Equal("http://localhost/.well-known/jwks", document.GetProperty("jwks_uri").GetString());
        Assert.Equal(["client_credentials"], Strings(document, "grant_types_supported"));
        var methods = Strings(document, "token_endpoint_auth_methods_supported");
        Assert.Equal(["client_secret_basic", "client_secret_post"], methods.Order());
        Assert.Equal(methods.Order(), Strings(document, "introspection_endpoint_auth_methods_supported").Order());
        Assert.Equal(methods.Order(), Strings(document, "revocation_endpoint_auth_methods_supported").Order());
        Assert.Superset(new HashSet<string> { "agents:read", "agents:write", "tokens:read", "audit:read", "agents:self" },
            Strings(document, "scopes_supported").ToHashSet());
    }

    [Fact]
    public async Task The_jwks_publishes_the_signing_key_for_RS256_signatures()
    {
        using var response = await fixture.Client.GetAsync("/.well-known/jwks");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = (await response.JsonAsync()).GetProperty("keys").EnumerateArray().ToList();
        var key = Assert.Single(keys);
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
        Assert.False(string.IsNullOrEmpty(key.GetProperty("n").GetString()));
        Assert.Equal("AQAB", key.GetProperty("e").GetString());
        // Only the public half, of course.
        Assert.False(key.TryGetProperty("d", out _));
        Assert.False(key.TryGetProperty("p", out _));
    }

    private static List<string> Strings(JsonElement document, string property) =>
        [.. document.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
}
