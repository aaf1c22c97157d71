using AgentAdminApi;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace AgentIdp.Testing;

/// <summary>
/// The real admin API on a test database. It validates tokens against a real AuthServer: its discovery
/// document and JWKS are fetched through <paramref name="authServer"/>, the AuthServer's in-memory handler.
/// </summary>
public sealed class AdminApiFactory(
    string connectionString, HttpMessageHandler authServer, IReadOnlyDictionary<string, string?>? settings = null, string environment = "Testing",
    TimeProvider? time = null)
    : WebApplicationFactory<AgentAdminApiApplication>
{
    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        TestSettings.Apply(builder, new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = connectionString,
            ["ISSUER"] = AuthServerFactory.Issuer,
            ["BCRYPT_COST"] = "4",
            ["ADMIN_RATE_LIMIT_PER_MINUTE"] = "0",
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
        }, settings);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        // Configure, not PostConfigure: JwtBearer builds its metadata client from these options in its own PostConfigure.
        builder.ConfigureServices(services => services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme,
            bearer => bearer.BackchannelHttpHandler = authServer));
        if (time is not null)
        {
            builder.ConfigureServices(services => services.Replace(ServiceDescriptor.Singleton(time)));
        }
    }
}
