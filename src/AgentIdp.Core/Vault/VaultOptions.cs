using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Core.Vault;

/// <summary>Vault mode's settings. Vault mode is on when VAULT_ADDR is set; otherwise secrets are bcrypt hashes.</summary>
public sealed class VaultOptions : IValidatableObject
{
    public const string TokenMethod = "token";
    public const string KubernetesMethod = "kubernetes";
    public const string AppRoleMethod = "approle";

    [ConfigurationKeyName("VAULT_ADDR")]
    public string? Address { get; set; }

    [ConfigurationKeyName("VAULT_TOKEN")]
    public string? Token { get; set; }

    /// <summary>A file holding the token, re-read when it changes (Vault Agent's <c>/vault/secrets/token</c>).</summary>
    [ConfigurationKeyName("VAULT_TOKEN_FILE")]
    public string? TokenFile { get; set; }

    [ConfigurationKeyName("VAULT_KV_MOUNT")]
    public string? KvMount { get; set; }

    /// <summary>The older name of VAULT_KV_MOUNT, still read; VAULT_KV_MOUNT wins.</summary>
    [ConfigurationKeyName("VAULT_MOUNT")]
    public string? LegacyMount { get; set; }

    [ConfigurationKeyName("VAULT_NAMESPACE")]
    public string? Namespace { get; set; }

    [ConfigurationKeyName("VAULT_AUTH_METHOD")]
    public string AuthMethod { get; set; } = TokenMethod;

    [ConfigurationKeyName("VAULT_K8S_ROLE")]
    public string? KubernetesRole { get; set; }

    [ConfigurationKeyName("VAULT_K8S_JWT_PATH")]
    public string KubernetesJwtPath { get; set; } = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    [ConfigurationKeyName("VAULT_K8S_AUTH_PATH")]
    public string KubernetesAuthPath { get; set; } = "kubernetes";

    [ConfigurationKeyName("VAULT_APPROLE_ROLE_ID")]
    public string? AppRoleRoleId { get; set; }

    [ConfigurationKeyName("VAULT_APPROLE_SECRET_ID")]
    public string? AppRoleSecretId { get; set; }

    [ConfigurationKeyName("VAULT_APPROLE_SECRET_ID_FILE")]
    public string? AppRoleSecretIdFile { get; set; }

    [ConfigurationKeyName("VAULT_APPROLE_AUTH_PATH")]
    public string AppRoleAuthPath { get; set; } = "approle";

    /// <summary>The most one Vault operation may take, retries included, before it fails with VAULT_READ_ERROR or VAULT_WRITE_ERROR.</summary>
    [ConfigurationKeyName("VAULT_TIMEOUT")]
    [Range(1, 120, ErrorMessage = "VAULT_TIMEOUT must be a number of seconds from 1 to 120 (default 5).")]
    public int TimeoutSeconds { get; set; } = 5;

    public bool Enabled => !string.IsNullOrWhiteSpace(Address);

    /// <summary>The KV v2 mount: VAULT_KV_MOUNT, else VAULT_MOUNT, else <c>secret</c>.</summary>
    public string Mount => (string.IsNullOrWhiteSpace(KvMount) ? string.IsNullOrWhiteSpace(LegacyMount) ? "secret" : LegacyMount : KvMount).Trim('/');

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            yield return new ValidationResult("VAULT_ADDR must be an http or https URL, for example https://vault.example.com:8200.", [nameof(Address)]);
        }
        switch (AuthMethod)
        {
            case TokenMethod:
                // No token at all is allowed: Vault Agent's caching proxy adds its own (agent-cache-enable).
                break;
            case KubernetesMethod when string.IsNullOrWhiteSpace(KubernetesRole):
                yield return new ValidationResult("VAULT_K8S_ROLE must be set when VAULT_AUTH_METHOD is kubernetes.", [nameof(KubernetesRole)]);
                break;
            case AppRoleMethod when string.IsNullOrWhiteSpace(AppRoleRoleId) ||
                                    (string.IsNullOrWhiteSpace(AppRoleSecretId) && string.IsNullOrWhiteSpace(AppRoleSecretIdFile)):
                yield return new ValidationResult(
                    "VAULT_APPROLE_ROLE_ID and VAULT_APPROLE_SECRET_ID (or VAULT_APPROLE_SECRET_ID_FILE) must be set when VAULT_AUTH_METHOD is approle.",
                    [nameof(AppRoleRoleId)]);
                break;
            case KubernetesMethod or AppRoleMethod:
                break;
            default:
                yield return new ValidationResult("VAULT_AUTH_METHOD must be token, kubernetes or approle.", [nameof(AuthMethod)]);
                break;
        }
    }
}
