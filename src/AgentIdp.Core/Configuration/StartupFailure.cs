using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Configuration;

/// <summary>A setting is missing or wrong in a way only the operator can fix; the message says which and how.</summary>
public sealed class ConfigurationException(string message) : Exception(message);

public static class StartupFailure
{
    public const int BadConfiguration = 1;

    /// <summary>
    /// Runs the service. A bad setting found at start (ValidateOnStart options, or a
    /// <see cref="ConfigurationException"/>) ends the process with exit code 1 and one line naming the
    /// setting, instead of an unhandled-exception stack trace.
    /// </summary>
    public static int RunOrExplain(this WebApplication app)
    {
        var service = app.Environment.ApplicationName; // the provider is disposed once a failed start unwinds
        try
        {
            app.Run();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            Console.Error.WriteLine($"{service} cannot start: {string.Join(" ", e.Failures)}");
            return BadConfiguration;
        }
        catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OptionsValidationException))
        {
            // Several settings are wrong at once: name them all.
            var failures = e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(inner => inner.Failures);
            Console.Error.WriteLine($"{service} cannot start: {string.Join(" ", failures)}");
            return BadConfiguration;
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The configuration binder's own words name the variable whose value is not a number, a URL...
            Console.Error.WriteLine($"{service} cannot start: {e.Message}");
            return BadConfiguration;
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"{service} cannot start: {e.Message}");
            return BadConfiguration;
        }
    }
}
