using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AgentIdp.Testing;

/// <summary>
/// A real PostgreSQL for the tests. Unless AGENTIDP_TEST_DATABASE_URL names a server (whose role may
/// create databases), it starts a throwaway cluster: initdb into a temporary folder (as the
/// <c>postgres</c> user when the tests run as root), a free port on 127.0.0.1, torn down when the test
/// process exits. Each test class gets a database of its own, copied from a migrated template.
/// </summary>
public sealed class PostgresServer
{
    private const string TemplateDatabase = "agentidp_template";
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(StartAsync);
    private static readonly SemaphoreSlim CreateDatabaseLock = new(1, 1);

    private readonly string _adminConnectionString;

    private PostgresServer(string adminConnectionString) => _adminConnectionString = adminConnectionString;

    public static Task<PostgresServer> SharedAsync() => SharedServer.Value;

    /// <summary>Creates an empty database, or one with every migration applied, and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(bool migrated = true)
    {
        var name = "agentidp_test_" + Guid.NewGuid().ToString("N")[..12];
        await CreateDatabaseLock.WaitAsync();
        try
        {
            await using var connection = new NpgsqlConnection(_adminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                migrated ? $"CREATE DATABASE {name} TEMPLATE {TemplateDatabase}" : $"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            CreateDatabaseLock.Release();
        }
        return ConnectionStringFor(name);
    }

    /// <summary>Takes a test's database away under whatever is connected to it: PostgreSQL gone, as a service sees it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(ConnectionStringFor("postgres"));
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE \"{new NpgsqlConnectionStringBuilder(connectionString).Database}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = database }.ConnectionString;

    private static async Task<PostgresServer> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable("AGENTIDP_TEST_DATABASE_URL");
        var server = new PostgresServer(string.IsNullOrWhiteSpace(external)
            ? await ThrowawayCluster.StartAsync()
            : DatabaseUrl.ToConnectionString(external));
        await server.CreateTemplateAsync();
        return server;
    }

    private async Task CreateTemplateAsync()
    {
        await using (var connection = new NpgsqlConnection(_adminConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {TemplateDatabase}", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {TemplateDatabase}", connection);
            await create.ExecuteNonQueryAsync();
        }
        var options = new DbContextOptionsBuilder<AgentIdpDbContext>();
        options.UseAgentIdpDatabase(ConnectionStringFor(TemplateDatabase));
        await using (var db = new AgentIdpDbContext(options.Options))
        {
            await DatabaseMigrator.MigrateAsync(db, CancellationToken.None);
        }
        // A template must have no open sessions while databases are copied from it.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>initdb, pg_ctl start on a free port, pg_ctl stop at process exit.</summary>
    private static class ThrowawayCluster
    {
        public static async Task<string> StartAsync()
        {
            var bin = FindBinaries();
            var root = Directory.CreateTempSubdirectory("agentidp-pg-").FullName;
            var data = Path.Combine(root, "data");
            var asRoot = OperatingSystem.IsLinux() && Environment.UserName == "root";
            if (asRoot)
            {
                // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
                await RunAsync("chown", ["postgres:postgres", root]);
            }

            await RunAsync(Path.Combine(bin, "initdb"),
                ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], asRoot);
            var port = FreePort();
            var options = string.Join(' ',
                $"-p {port}", $"-k {root}", "-c listen_addresses=127.0.0.1", "-c fsync=off", "-c synchronous_commit=off",
                "-c full_page_writes=off", "-c max_connections=400", "-c shared_buffers=128MB");
            await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(root, "postgres.log"), "-w", "-t", "60", "start"], asRoot);

            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], asRoot).GetAwaiter().GetResult();
                    Directory.Delete(root, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    // best effort: the folder is under the temporary directory
                }
            };
            return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=50;Timeout=30";
        }

        private static string FindBinaries()
        {
            var configured = Environment.GetEnvironmentVariable("PG_BIN");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }
            var installed = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql")
                    .Select(dir => Path.Combine(dir, "bin"))
                    .Where(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
                    .OrderByDescending(dir => int.TryParse(Path.GetFileName(Path.GetDirectoryName(dir)), out var v) ? v : 0)
                    .FirstOrDefault()
                : null;
            if (installed is not null)
            {
                return installed;
            }
            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
                .FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
            return onPath ?? throw new InvalidOperationException(
                "PostgreSQL server binaries (initdb, pg_ctl) were not found: install postgresql-15, set PG_BIN, " +
                "or point AGENTIDP_TEST_DATABASE_URL at a server whose role may create databases.");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgresUser = false)
        {
            var start = new ProcessStartInfo(asPostgresUser ? "runuser" : program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (asPostgresUser)
            {
                foreach (var argument in (string[])["-u", "postgres", "--", program])
                {
                    start.ArgumentList.Add(argument);
                }
            }
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}");
            }
        }
    }
}
