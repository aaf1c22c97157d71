using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Core.Agents;

namespace AgentAdminApi.Tests;

public static class AdminApiRequests
{
    public static readonly object ValidAgent = new
    {
        email = "invoice-screener@example.com",
        agentType = "screener",
        version = "2.3.1-beta",
        capabilities = new[] { "invoices:read", "invoices:write" },
        owner = "team-payments",
        deploymentEnv = "production",
    };

    public static object NewAgent(string? email = null, string[]? capabilities = null, string owner = "team-payments", string agentType = "screener",
        string deploymentEnv = "production") => new
        {
            email = email ?? $"agent-{Guid.NewGuid():N}@example.com",
            agentType,
            version = "1.0.0",
            capabilities = capabilities ?? ["invoices:read"],
            owner,
            deploymentEnv,
        };

    /// <summary><c>GET /api/v1/agents</c> with exactly this Authorization header (none when null).</summary>
    public static async Task<HttpResponseMessage> GetAgentsWithAsync(this AdminApiFixture fixture, string? authorization)
    {
        using var client = fixture.AdminApi.CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }
        return await client.GetAsync("/api/v1/agents");
    }

    /// <summary>A copy of a real access token, claims, audience and kid included, signed by a key the AuthServer never had.</summary>
    public static string SignedByAnotherKey(Microsoft.IdentityModel.JsonWebTokens.JsonWebToken real)
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = real.Issuer,
            Audience = AuthServerFactory.AdminAudience, // as the real token's: only the key is wrong
            TokenType = "at+jwt",
            Claims = real.Claims.Where(c => c.Type is not ("iss" or "aud" or "exp" or "iat" or "nbf"))
                .ToDictionary(c => c.Type, c => (object)c.Value),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa) { KeyId = real.Kid }, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256),
        });
    }

    public static async Task<JsonElement> RegisterAsync(this HttpClient client, object? body = null)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/agents", body ?? NewAgent());
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.JsonAsync();
    }

    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string json) =>
        client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") });

    /// <summary>Asserts a problem document with this status and code, and returns it.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, System.Net.HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.DoesNotContain("   at ", text);
        return problem;
    }

    /// <summary>The fields a VALIDATION_ERROR names.</summary>
    public static async Task<IReadOnlyList<string>> ValidationErrorsAsync(this HttpResponseMessage response)
    {
        var problem = await response.ProblemAsync(System.Net.HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        return [.. problem.GetProperty("errors").EnumerateObject().Select(e => e.Name)];
    }
}
