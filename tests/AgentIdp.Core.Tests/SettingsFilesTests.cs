using AgentIdp.Core.Configuration;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Tests;

public sealed class SettingsFilesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("agentidp-settings-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private ConfigurationManager Configuration(params (string Key, string? Value)[] earlier)
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(earlier.Select(setting => new KeyValuePair<string, string?>(setting.Key, setting.Value)));
        configuration.AddSettingsFiles();
        return configuration;
    }

    [Fact]
    public void Each_file_named_as_a_setting_gives_it_its_content_without_the_final_line_break()
    {
        File.WriteAllText(Path.Combine(_folder, "DATABASE_URL"), "postgres://u:p@db:5432/agentidp\n");
        File.WriteAllText(Path.Combine(_folder, "SIGNING_KEY_ENCRYPTION_KEY"), "a2V5");

        var configuration = Configuration((SettingsFiles.DirectorySetting, _folder));

        Assert.Equal("postgres://u:p@db:5432/agentidp", configuration["DATABASE_URL"]);
        Assert.Equal("a2V5", configuration["SIGNING_KEY_ENCRYPTION_KEY"]);
    }

    [Fact]
    public void Files_that_are_not_named_as_settings_are_left_alone()
    {
        File.WriteAllText(Path.Combine(_folder, "token"), "hvs.agent-token"); // Vault Agent's own token file
        File.WriteAllText(Path.Combine(_folder, "database-url"), "x");
        File.WriteAllText(Path.Combine(_folder, ".hidden"), "x");

        var configuration = Configuration((SettingsFiles.DirectorySetting, _folder));

        Assert.Equal([SettingsFiles.DirectorySetting], configuration.AsEnumerable().Select(setting => setting.Key));
    }

    [Fact]
    public void A_setting_given_both_ways_is_taken_from_its_file()
    {
        File.WriteAllText(Path.Combine(_folder, "ISSUER"), "https://idp.example.com/");

        var configuration = Configuration((SettingsFiles.DirectorySetting, _folder), ("ISSUER", "http://elsewhere/"), ("AUDIENCE", "api"));

        Assert.Equal("https://idp.example.com/", configuration["ISSUER"]);
        Assert.Equal("api", configuration["AUDIENCE"]);
    }

    [Fact]
    public void Without_SETTINGS_DIR_or_its_folder_nothing_is_added()
    {
        var unset = new ConfigurationManager();
        var sources = ((IConfigurationBuilder)unset).Sources.Count;
        unset.AddSettingsFiles();
        var missing = Configuration((SettingsFiles.DirectorySetting, Path.Combine(_folder, "nowhere")));

        Assert.Equal(sources, ((IConfigurationBuilder)unset).Sources.Count);
        Assert.Equal([SettingsFiles.DirectorySetting], missing.AsEnumerable().Select(setting => setting.Key));
    }
}
