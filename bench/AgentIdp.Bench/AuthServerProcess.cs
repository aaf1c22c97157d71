using System.Globalization;

namespace AgentIdp.Bench;

/// <summary>
/// Starts the built AuthServer as an operator runs it, <c>dotnet AuthServer.dll</c>, configured by
/// environment variables only: the ones below, and a scenario's own (SECRET_CACHE_TTL, SIGNING_ALGORITHM, VAULT_*).
/// </summary>
internal static class AuthServerProcess
{
    public static Task<ServerProcess> StartAsync(
        BenchEnvironment bench, string name, string connectionString, IReadOnlyDictionary<string, string> settings,
        CancellationToken cancellationToken)
    {
        var address = ServerProcess.NewAddress();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = address.GetLeftPart(UriPartial.Authority),
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DATABASE_URL"] = connectionString,
            ["ISSUER"] = address.ToString(),
            ["SIGNING_KEY_ENCRYPTION_KEY"] = bench.EncryptionKey,
            // The per-client rate limit would answer 429 long before any other limit showed.
            ["TOKEN_RATE_LIMIT_PER_MINUTE"] = "0",
            ["BCRYPT_COST"] = bench.Options.BcryptCost.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        return ServerProcess.StartAsync(name, address, bench.Layout.AuthServerAssembly, [], environment, bench.WorkFile(name, "log"), cancellationToken);
    }
}
