using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Logging;

/// <summary>
/// OpenIddict writes whole tokens into its Trace-level messages (the JWT it just created, the one it
/// validated). However logging is configured, no OpenIddict category may log below Debug, so that
/// no setting of Logging__LogLevel can put an access token into a log line.
/// </summary>
public static class TokenSafeLogging
{
    private const string TokenLoggingCategoryPrefix = "OpenIddict";

    public static IServiceCollection AddTokenSafeLogging(this IServiceCollection services)
    {
        services.AddSingleton<IPostConfigureOptions<LoggerFilterOptions>, KeepTokensOutOfLogs>();
        return services;
    }

    public static bool MayLog(string? category, LogLevel level) =>
        level >= LogLevel.Debug || category is null || !category.StartsWith(TokenLoggingCategoryPrefix, StringComparison.Ordinal);

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
