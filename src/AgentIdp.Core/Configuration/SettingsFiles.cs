using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace AgentIdp.Core.Configuration;

/// <summary>
/// Settings read from files: when SETTINGS_DIR names a folder, each file in it whose name is a setting's
/// name (capitals, digits and underscores, such as <c>DATABASE_URL</c>) gives that setting its value, the
/// file's content without its final line break. This is how a secret store's agent hands over secrets
/// without a shell to turn them into environment variables (Vault Agent renders them into
/// <c>/vault/secrets</c>). Other files there, such as Vault Agent's <c>token</c>, are not settings and are
/// left alone. A setting given both ways is taken from its file. The files are read once, at start.
/// </summary>
public static partial class SettingsFiles
{
    /// <summary>The setting that names the folder.</summary>
    public const string DirectorySetting = "SETTINGS_DIR";

    /// <summary>Adds the settings in SETTINGS_DIR's files, if it is set, after every source added so far: call it last.</summary>
    public static IConfigurationManager AddSettingsFiles(this IConfigurationManager configuration)
    {
        var directory = configuration[DirectorySetting];
        if (string.IsNullOrWhiteSpace(directory))
        {
            return configuration;
        }
        var path = Path.GetFullPath(directory);
        configuration.AddKeyPerFile(source =>
        {
            // A folder that does not exist adds nothing: a setting it should have held is then reported missing by name.
            source.FileProvider = Directory.Exists(path) ? new PhysicalFileProvider(path) : null;
            source.Optional = true;
            source.IgnoreCondition = name => !IsSettingName(name);
        });
        return configuration;
    }

    public static bool IsSettingName(string fileName) => SettingName().IsMatch(fileName);

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    private static partial Regex SettingName();
}
