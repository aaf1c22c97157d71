using Microsoft.AspNetCore.Hosting;

namespace AgentIdp.Testing;

public static class TestSettings
{
    /// <summary>Gives a service under test its settings: the defaults, with any a test overrides or removes (null).</summary>
    public static void Apply(IWebHostBuilder builder, Dictionary<string, string?> defaults, IReadOnlyDictionary<string, string?>? overrides)
    {
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            defaults[key] = value;
        }
        foreach (var (key, value) in defaults)
        {
            builder.UseSetting(key, value);
        }
    }
}
