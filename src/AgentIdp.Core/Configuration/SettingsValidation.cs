using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Configuration;

public static class SettingsValidation
{
    /// <summary>
    /// Validates settings with their data annotations and <see cref="IValidatableObject"/>, reporting each
    /// failure as its own message (which names the environment variable), without the type and member
    /// names that <c>ValidateDataAnnotations</c> wraps around it. Pair with <c>ValidateOnStart</c>.
    /// </summary>
    public static OptionsBuilder<TOptions> ValidateSettings<TOptions>(this OptionsBuilder<TOptions> builder) where TOptions : class
    {
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new SettingsValidator<TOptions>(builder.Name));
        return builder;
    }

    private sealed class SettingsValidator<TOptions>(string? name) : IValidateOptions<TOptions> where TOptions : class
    {
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            if (name is not null && name != optionsName)
            {
                return ValidateOptionsResult.Skip;
            }
            var results = new List<ValidationResult>();
            return Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(results.Select(r => r.ErrorMessage ?? "A setting is invalid."));
        }
    }
}
