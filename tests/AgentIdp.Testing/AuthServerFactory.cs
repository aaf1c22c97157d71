using System.Security.Cryptography;
using AgentIdp.Testing;
using AuthServer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace AgentIdp.Testing;

/// <summary>The real AuthServer (its Program, middleware and OpenIddict pipeline) on a test database.</summary>
public sealed class AuthServerFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null)
    : WebApplicationFactory<AuthServerApplication>
{
    /// <summary>An AuthServer on a database of its own: for a test that takes PostgreSQL away under it.</summary>
    public static async Task<(PostgresServer Server, TestData Data, AuthServerFactory Factory)> OnOwnDatabaseAsync()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync();
        return (server, new TestData(connectionString), new AuthServerFactory(connectionString));
    }

    public const string Issuer = "http://localhost/";

    /// <summary>
    /// An AuthServer on the same database, so with the same signing keys, that gives tokens carrying the admin
    /// API's scopes the audience <see cref="Audience"/> alone, as AgentIdP did before the admin API had an
    /// audience of its own: a well-signed, live token of the old kind, which must no longer act at the admin API.
    /// </summary>
    public static AuthServerFactory IssuingOldStyleAdminTokens(string connectionString) => new(connectionString, new Dictionary<string, string?>
    {
        ["AUDIENCE"] = "https://elsewhere.example/",
        ["ADMIN_AUDIENCE"] = Audience,
    });

    /// <summary>AUDIENCE's default: the audience of a token for other scopes, requested without <c>resource</c>.</summary>
    public const string Audience = "agentidp";

    /// <summary>ADMIN_AUDIENCE's default: the admin API's audience, the only one it accepts.</summary>
    public const string AdminAudience = "agentidp-admin";

    /// <summary>One key-encryption key per test run; a test that needs another passes SIGNING_KEY_ENCRYPTION_KEY.</summary>
    public static readonly string EncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        TestSettings.Apply(builder, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = connectionString,
            ["ISSUER"] = Issuer,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = EncryptionKey,
            ["BCRYPT_COST"] = "4",
            ["TOKEN_RATE_LIMIT_PER_MINUTE"] = "0",
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:OpenIddict"] = "Trace",
        }, settings);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        if (time is not null)
        {
            builder.ConfigureServices(services => services.Replace(ServiceDescriptor.Singleton(time)));
        }
    }
}
