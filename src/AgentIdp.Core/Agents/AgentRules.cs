using System.Net.Mail;
using System.Text.RegularExpressions;

namespace AgentIdp.Core.Agents;

/// <summary>The validation rules of an agent's fields, as the HTTP contract states them. Defined once.</summary>
public static partial class AgentRules
{
    public const int MaxEmailLength = 320;
    public const int MaxOwnerLength = 128;
    public const int MaxVersionLength = 256;
    public const int MaxCapabilityLength = 129;
    public const int MaxCapabilities = 100;

    public static bool IsValidEmail(string? email) =>
        email is { Length: > 0 and <= MaxEmailLength } &&
        email.Trim() == email && !email.Any(char.IsControl) &&
        MailAddress.TryCreate(email, out var address) &&
        address.Address == email && address.DisplayName.Length == 0 &&
        address.Host.Contains('.', StringComparison.Ordinal);

    /// <summary>Semantic Versioning 2.0.0, with pre-release and build metadata.</summary>
    public static bool IsValidVersion(string? version) => version is { Length: > 0 and <= MaxVersionLength } && SemVer().IsMatch(version);

    /// <summary><c>resource:action</c>, each part letters, digits, '.', '_' or '-'. Capabilities are OAuth scope tokens.</summary>
    public static bool IsValidCapability(string? capability) =>
        capability is { Length: > 0 and <= MaxCapabilityLength } && Capability().IsMatch(capability);

    /// <summary>1–128 characters, not only spaces, no control characters (PostgreSQL text cannot hold NUL).</summary>
    public static bool IsValidOwner(string? owner) =>
        owner is { Length: >= 1 and <= MaxOwnerLength } && !string.IsNullOrWhiteSpace(owner) && !owner.Any(char.IsControl);

    [GeneratedRegex(@"\A(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex SemVer();

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Capability();
}
