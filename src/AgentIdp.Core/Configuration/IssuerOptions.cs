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

    /// <summary>The <c>aud</c> of a token requested without <c>resource</c> for scopes other than the admin API's.</summary>
    [ConfigurationKeyName("AUDIENCE")]
    [Required(AllowEmptyStrings = false, ErrorMessage = "AUDIENCE must not be empty (default agentidp).")]
    public string Audience { get; set; } = "agentidp";

    /// <summary>
    /// The admin API's own audience: the only one it accepts, and the one a token gets exactly when it carries
    /// an admin API scope (<see cref="Agents.AdminCapabilities.ApiScopes"/>) or it is requested as a <c>resource</c>.
    /// </summary>
    [ConfigurationKeyName("ADMIN_AUDIENCE")]
    [Required(AllowEmptyStrings = false, ErrorMessage = "ADMIN_AUDIENCE must not be empty (default agentidp-admin).")]
    public string AdminAudience { get; set; } = "agentidp-admin";

    public Uri IssuerUri => new(Issuer ?? throw new InvalidOperationException("ISSUER is not set."), UriKind.Absolute);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Audiences are compared as they are, byte for byte (RFC 7519 §4.1.3), so the same comparison decides
        // here. Were they equal, every token an agent sends to another API would be one the admin API accepts.
        if (!string.IsNullOrWhiteSpace(Audience) && string.Equals(Audience, AdminAudience, StringComparison.Ordinal))
        {
            yield return new ValidationResult(
                "ADMIN_AUDIENCE must differ from AUDIENCE: a token meant for another API must not be accepted by the admin API.", [nameof(AdminAudience)]);
        }
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
