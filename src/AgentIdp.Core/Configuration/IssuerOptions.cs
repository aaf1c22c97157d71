using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Configuration;

/// <summary>Who issues AgentIdP's tokens and for whom, as both services must agree.</summary>
public sealed class IssuerOptions : IValidatableObject
{
    /// <summary>The AuthServer's public base URL: the <c>iss</c> of every token.</summary>
    [ConfigurationKeyName("ISSUER")]
    [Required(ErrorMessage = "ISSUER must be set to the AuthServer's public base URL, for example https://idp.example.com/.")]
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> of a token requested without <c>resource</c>, and the audience the admin API requires.</summary>
    [ConfigurationKeyName("AUDIENCE")]
    [Required(AllowEmptyStrings = false, ErrorMessage = "AUDIENCE must not be empty (default agentidp).")]
    public string Audience { get; set; } = "agentidp";

    public Uri IssuerUri => new(Issuer ?? throw new InvalidOperationException("ISSUER is not set."), UriKind.Absolute);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Issuer))
        {
            yield break;
        }
        if (!Uri.TryCreate(Issuer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) ||
            !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            yield return new ValidationResult(
                "ISSUER must be an absolute http or https URL with no query or fragment, for example https://idp.example.com/.", [nameof(Issuer)]);
        }
    }
}
