using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AgentIdp.Testing;
using AgentIdp.Testing.Vault;
using Npgsql;

namespace AgentIdp.Bench;

/// <summary>
/// What every scenario of one run shares: the options, the repository's files, a throwaway PostgreSQL, the
/// Vault test server (started when first needed), a work folder for credentials files and logs (kept if
/// the run fails), and the key that encrypts the AuthServers' signing keys.
/// </summary>
internal sealed partial class BenchEnvironment : IAsyncDisposable
{
    /// <summary>The Vault test server's KV v2 mount, which is also the AuthServer's default VAULT_KV_MOUNT.</summary>
    public const string VaultMount = "secret";

    /// <summary>Every Vault request waits this long, as a nearby Vault takes to answer.</summary>
    public static readonly TimeSpan VaultLatency = TimeSpan.FromMilliseconds(1);

    private readonly PostgresServer _postgres;
    private VaultTestServer? _vault;
    private string? _vaultToken;

    private BenchEnvironment(BenchOptions options, RepositoryLayout layout, PostgresServer postgres, string workDirectory)
    {
        Options = options;
        Layout = layout;
        WorkDirectory = workDirectory;
        _postgres = postgres;
    }

    public BenchOptions Options { get; }
    public RepositoryLayout Layout { get; }
    public string WorkDirectory { get; }
    public string EncryptionKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static async Task<BenchEnvironment> StartAsync(BenchOptions options, RepositoryLayout layout, CancellationToken cancellationToken)
    {
        Progress.Report("starting PostgreSQL");
        var postgres = await PostgresServer.SharedAsync().WaitAsync(cancellationToken);
        return new BenchEnvironment(options, layout, postgres, Directory.CreateTempSubdirectory("agentidp-bench-").FullName);
    }

    /// <summary>A fresh migrated database: each scenario starts with empty tables (the audit log included).</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await _postgres.CreateDatabaseAsync().WaitAsync(cancellationToken));
        // The fixture's pool limit is for test processes; the AuthServer gets Npgsql's default, as a plain DATABASE_URL gives it.
        connectionString.Remove("Maximum Pool Size");
        return connectionString.ConnectionString;
    }

    /// <summary>The Vault KV v2 test server, in this process, slowed by <see cref="VaultLatency"/>; and a token with AgentIdP's policy.</summary>
    public async Task<(VaultTestServer Server, string Token)> VaultAsync()
    {
        if (_vault is null)
        {
            Progress.Report($"starting the Vault test server ({VaultLatency.TotalMilliseconds:0} ms per request)");
            _vault = await VaultTestServer.StartAsync();
            _vault.SlowDelay = VaultLatency;
            _vault.Fault = VaultFault.Slow;
            _vaultToken = _vault.CreateToken(VaultTestServer.AgentIdpPolicy(VaultMount), TimeSpan.FromDays(1));
        }
        return (_vault, _vaultToken!);
    }

    /// <summary>A file in the work folder named after a row or a server, e.g. <c>hot-agent-rs256.log</c>.</summary>
    public string WorkFile(string name, string extension) =>
        Path.Combine(WorkDirectory, $"{NotInFileName().Replace(name.ToLowerInvariant(), "-").Trim('-')}.{extension}");

    /// <summary>Set once the run has ended as it should (or was interrupted); otherwise the work folder's logs are kept for the reader.</summary>
    public bool DeleteWorkDirectory { get; set; }

    public async ValueTask DisposeAsync()
    {
        if (_vault is not null)
        {
            await _vault.DisposeAsync();
        }
        if (DeleteWorkDirectory)
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotInFileName();
}
