using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Logging;

/// <summary>
/// Categories that write secrets at some level, kept above it however logging is configured, so that no
/// setting of Logging__LogLevel can put a secret, a token or a Vault token into a log entry, whichever
/// provider writes it (console, OpenTelemetry):
/// <list type="bullet">
/// <item>OpenIddict writes whole tokens into its Trace-level messages (the JWT it just created, the one it validated): Debug at least.</item>
/// <item>IHttpClientFactory's Trace-level header entries ("Request Headers:") mask values in their message but carry them
/// as structured values, X-Vault-Token among them, which the JSON console and OpenTelemetry export: Debug at least.</item>
/// <item>ASP.NET Core's request lines ("Request starting POST http://host/path?query", Information) carry the raw query
/// string, where a careless client may put its secret: Warning at least (the request's trace has the rest, without the query).</item>
/// </list>
/// </summary>
public static class TokenSafeLogging
{
    private static readonly (string CategoryPrefix, LogLevel Minimum)[] Floors =
    [
        ("OpenIddict", LogLevel.Debug),
        ("System.Net.Http.HttpClient.", LogLevel.Debug),
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning),
    ];

    public static IServiceCollection AddTokenSafeLogging(this IServiceCollection services)
    {
        services.AddSingleton<IPostConfigureOptions<LoggerFilterOptions>, KeepTokensOutOfLogs>();
        return services;
    }

    public static bool MayLog(string? category, LogLevel level)
    {
        if (category is null)
        {
            return true;
        }
        foreach (var (prefix, minimum) in Floors)
        {
            if (level < minimum && category.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }

    private sealed class KeepTokensOutOfLogs : IPostConfigureOptions<LoggerFilterOptions>
    {
        public void PostConfigure(string? name, LoggerFilterOptions options)
        {
            // One rule is chosen per provider and category; giving every rule (and a catch-all) the
            // filter makes it apply whichever is chosen.
            var rules = options.Rules
                .Select(rule => new LoggerFilterRule(rule.ProviderName, rule.CategoryName, rule.LogLevel, Guard(rule.Filter)))
                .ToList();
            options.Rules.Clear();
            options.Rules.Add(new LoggerFilterRule(null, null, options.MinLevel, Guard(null)));
            foreach (var rule in rules)
            {
                options.Rules.Add(rule);
            }
        }

        private static Func<string?, string?, LogLevel, bool> Guard(Func<string?, string?, LogLevel, bool>? inner) =>
            (provider, category, level) => MayLog(category, level) && (inner is null || inner(provider, category, level));
    }
}
