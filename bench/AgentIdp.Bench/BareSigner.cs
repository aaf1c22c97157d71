using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentIdp.Bench;

/// <summary>
/// The bare signing endpoint: Kestrel and one <c>POST /api/v1/token</c> that reads the form and answers an
/// <c>at+jwt</c> with the AuthServer's claims, signed by an in-memory RS256 or ES256 key. No client check,
/// no database, no audit: what it serves is what HTTP and signing alone allow on this machine, and every
/// AuthServer figure is read as a ratio of it. The benchmark runs it as a child process of its own, like an AuthServer.
/// </summary>
internal static class BareSigner
{
    public const string Mode = "bare";
    private const string Audience = "agentidp"; // AUDIENCE's default, which the AuthServer's tokens carry
    private const string Scope = "invoices:read invoices:write"; // the seeded agents' capabilities
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public static Command CreateCommand()
    {
        var algorithm = new Option<string>("--alg") { Description = "RS256 (RSA 2048) or ES256 (P-256).", Required = true };
        algorithm.AcceptOnlyFromAmong(SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256);
        var urls = new Option<string>("--urls") { Description = "Where to listen, e.g. http://127.0.0.1:5099.", Required = true };
        var command = new Command(Mode, "Serve the bare signing endpoint that the benchmark's ratios are taken against.") { algorithm, urls };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(algorithm)!, parse.GetValue(urls)!, cancellationToken));
        return command;
    }

    /// <summary>Starts the bare signer as a child process and waits until it answers.</summary>
    public static Task<ServerProcess> StartAsync(BenchEnvironment bench, string algorithm, CancellationToken cancellationToken)
    {
        var address = ServerProcess.NewAddress();
        var name = $"bare {algorithm}";
        return ServerProcess.StartAsync(name, address, bench.Layout.BenchAssembly,
            [Mode, "--alg", algorithm, "--urls", address.GetLeftPart(UriPartial.Authority)],
            new Dictionary<string, string>(), bench.WorkFile(name, "log"), cancellationToken);
    }

    private static async Task<int> RunAsync(string algorithm, string urls, CancellationToken cancellationToken)
    {
        using AsymmetricAlgorithm key = algorithm == SecurityAlgorithms.EcdsaSha256
            ? ECDsa.Create(ECCurve.NamedCurves.nistP256)
            : RSA.Create(2048);
        var credentials = key switch
        {
            ECDsa ecdsa => new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = "bare-es256" }, SecurityAlgorithms.EcdsaSha256),
            RSA rsa => new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = "bare-rs256" }, SecurityAlgorithms.RsaSha256),
            _ => throw new InvalidOperationException("An RSA or ECDSA key was made."),
        };
        var issuer = urls.TrimEnd('/') + "/";
        var tokens = new JsonWebTokenHandler();

        // No settings files and no environment: the bench decides every setting.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseKestrelCore().UseUrls(urls);
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRoutingCore();
        await using var app = builder.Build();

        app.MapPost("/api/v1/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var clientId = form["client_id"].ToString();
            if (clientId.Length == 0)
            {
                return Results.BadRequest();
            }
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(new TokenResponse(tokens.CreateToken(Describe(issuer, clientId, credentials)), "Bearer", (int)Lifetime.TotalSeconds));
        });
        app.MapGet("/health/ready", () => Results.Ok());

        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>The claims of the AuthServer's access tokens (iss, sub, client_id, aud, scope, jti, iat, nbf, exp), typ at+jwt (RFC 9068).</summary>
    private static SecurityTokenDescriptor Describe(string issuer, string clientId, SigningCredentials credentials)
    {
        var now = DateTime.UtcNow;
        return new SecurityTokenDescriptor
        {
            TokenType = "at+jwt",
            Issuer = issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + Lifetime,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Sub] = clientId,
                ["client_id"] = clientId,
                ["scope"] = Scope,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString(),
            },
        };
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("token_type")] string TokenType,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
