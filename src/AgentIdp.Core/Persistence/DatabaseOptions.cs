using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Persistence;

public sealed class DatabaseOptions : IValidatableObject
{
    [ConfigurationKeyName("DATABASE_URL")]
    [Required(ErrorMessage = "DATABASE_URL must be set: a postgres:// URI or an Npgsql connection string.")]
    public string? Url { get; set; }

    public string ConnectionString => DatabaseUrl.ToConnectionString(Url ?? throw new InvalidOperationException("DATABASE_URL is not set."));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            yield break;
        }
        string? error = null;
        try
        {
            _ = ConnectionString;
        }
        catch (FormatException e)
        {
            error = e.Message;
        }
        if (error is not null)
        {
            yield return new ValidationResult(error, [nameof(Url)]);
        }
    }
}
