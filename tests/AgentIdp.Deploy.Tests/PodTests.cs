using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Cli;
using AgentIdp.Testing;
using AgentIdp.Testing.Vault;
using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Deploy.Tests;

/// <summary>
/// Each workload of each kustomization started as its pod would start it: with its environment as
/// rendered, and with what Vault Agent would put in its folder, rendered here from a Vault test server
/// under a token holding exactly the policies setup.sh gives the pod's role. The services must then
/// answer 200 on the probe paths; the migration Job's command must migrate a database.
/// </summary>
public sealed class PodTests : IAsyncLifetime
{
    public static TheoryData<string> Kustomizations => new(Repository.Kustomizations);

    private VaultTestServer _vault = null!;
    private readonly List<DirectoryInfo> _folders = [];

    public async Task InitializeAsync() => _vault = await VaultTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        _folders.ForEach(folder => folder.Delete(recursive: true));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_services_start_from_what_their_pods_give_them_and_answer_their_probes(string kustomization)
    {
        var rendered = Rendered.Of(kustomization);
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        var authServerPod = Assert.Single(rendered.Workloads, w => w.Program == AgentIdpProgram.AuthServer);
        var adminApiPod = Assert.Single(rendered.Workloads, w => w.Program == AgentIdpProgram.AdminApi);

        // Whatever the test's own defaults, DATABASE_URL and the encryption key come from the pod's files.
        var fromFilesOnly = new Dictionary<string, string?> { ["DATABASE_URL"] = null, ["SIGNING_KEY_ENCRYPTION_KEY"] = null };
        await using var authServer = new AuthServerFactory(database, Merge(await PodSettingsAsync(authServerPod, database), fromFilesOnly));
        await using var adminApi = new AdminApiFactory(database, authServer.Server.CreateHandler(), Merge(await PodSettingsAsync(adminApiPod, database), fromFilesOnly));

        await AssertProbesAnswerAsync(authServerPod, authServer.CreateClient());
        await AssertProbesAnswerAsync(adminApiPod, adminApi.CreateClient());
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_migration_Job_migrates_with_what_its_pod_gives_it(string kustomization)
    {
        var job = Assert.Single(Rendered.Of(kustomization).Workloads, w => w.Kind == "Job");
        var database = new TestData(await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(migrated: false));

        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await AgentIdpCommand.RunAsync([.. job.Container.Args], await PodSettingsAsync(job, database.ConnectionString), output, error);

        Assert.True(exitCode == 0, $"{job}: agentidp {string.Join(' ', job.Container.Args)} exited {exitCode}: {error}");
        Assert.Contains("InitialSchema", output.ToString());
        await using var db = database.Open();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    private static async Task AssertProbesAnswerAsync(Workload pod, HttpClient client)
    {
        using var _ = client;
        foreach (var probe in new[] { pod.Container.StartupProbe, pod.Container.LivenessProbe, pod.Container.ReadinessProbe })
        {
            using var answer = await client.GetAsync(probe.HttpGet.Path);
            var body = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{pod}: GET {probe.HttpGet.Path} answered {(int)answer.StatusCode}: {body}");
        }
        // Every readiness check healthy: PostgreSQL from the rendered DATABASE_URL, Vault with the agent's token.
        var ready = await client.GetFromJsonAsync<JsonElement>(pod.Container.ReadinessProbe.HttpGet.Path);
        Assert.All(ready.GetProperty("checks").EnumerateObject(), check => Assert.True(check.Value.GetProperty("status").GetString() == "healthy",
            $"{pod}: the readiness check {check.Name} is {check.Value.GetProperty("status")}: {check.Value.GetProperty("description")}"));
    }

    /// <summary>
    /// The pod's settings, as the program would read them in the pod: its environment, with Vault Agent's
    /// folder replaced by one of the test's, where the files are rendered as Vault Agent would render them.
    /// </summary>
    private async Task<Dictionary<string, string?>> PodSettingsAsync(Workload pod, string databaseUrl)
    {
        var folder = Directory.CreateTempSubdirectory("agentidp-pod-");
        _folders.Add(folder);
        var environment = pod.Environment;
        var mount = environment.GetValueOrDefault("VAULT_KV_MOUNT") ?? "secret";
        // The values an operator puts in Vault for the settings the pods read from it (deploy/README.md).
        var values = new Dictionary<string, string>
        {
            ["DATABASE_URL"] = databaseUrl,
            ["SIGNING_KEY_ENCRYPTION_KEY"] = AuthServerFactory.EncryptionKey,
        };

        if (pod.VaultInjected)
        {
            var setup = VaultSetup.Read();
            var token = _vault.CreateToken(setup.Roles[pod.VaultRole!].SelectMany(policy => VaultSetup.Rules(policy, mount)), TimeSpan.FromHours(1));
            if (pod.VaultToken)
            {
                await File.WriteAllTextAsync(Path.Combine(folder.FullName, "token"), token);
            }
            using var http = new HttpClient { BaseAddress = _vault.Address };
            foreach (var file in pod.VaultFiles)
            {
                var (path, field) = file.Parsed!.Value;
                Assert.True(values.TryGetValue(field, out var value), $"{pod}: Vault Agent renders {file.FileName}; give the test a value for it.");
                _vault.Put(mount, path[(mount + "/data/").Length..], new Dictionary<string, string> { [field] = value });
                using var request = new HttpRequestMessage(HttpMethod.Get, "v1/" + path);
                request.Headers.Add("X-Vault-Token", token);
                using var answer = await http.SendAsync(request);
                Assert.True(answer.IsSuccessStatusCode,
                    $"{pod}: with the policies setup.sh gives the role {pod.VaultRole} ({string.Join(", ", setup.Roles[pod.VaultRole!])}), Vault answers {(int)answer.StatusCode} to a read of {path}.");
                var secret = await answer.Content.ReadFromJsonAsync<JsonElement>();
                await File.WriteAllTextAsync(Path.Combine(folder.FullName, file.FileName), secret.GetProperty("data").GetProperty("data").GetProperty(field).GetString());
            }
        }

        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            // The host reads ASPNETCORE_X from the environment as X.
            var key = name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ? name["ASPNETCORE_".Length..] : name;
            settings[key] = value is not null && value.StartsWith(pod.VaultFolder, StringComparison.Ordinal)
                ? folder.FullName + value[pod.VaultFolder.Length..]
                : value;
        }
        if (settings.ContainsKey("VAULT_ADDR"))
        {
            settings["VAULT_ADDR"] = _vault.Address.ToString(); // the cluster's Vault, played by the test server
        }
        return settings;
    }

    private static Dictionary<string, string?> Merge(Dictionary<string, string?> settings, IReadOnlyDictionary<string, string?> overrides)
    {
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }
        return settings;
    }
}
