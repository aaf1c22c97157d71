using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentIdp.Core.Agents;

namespace AgentAdminApi.Requests;

/// <summary>
/// Reads the fields of a JSON object body one by one, so that every field that is missing, null, of the
/// wrong type, out of range or unknown gets its own message, all in one answer; and so that a PATCH can
/// tell a field left out from a field set to null.
/// </summary>
public sealed partial class BodyFields
{
    private readonly JsonElement _body;
    private readonly ValidationErrors _errors;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    private BodyFields(JsonElement body, ValidationErrors errors) => (_body, _errors) = (body, errors);

    /// <summary>Reads an object body. A missing or empty body counts as <c>{}</c> when <paramref name="emptyAllowed"/>.</summary>
    public static BodyFields Of(JsonElement? body, ValidationErrors errors, bool emptyAllowed = false)
    {
        if (body is not { ValueKind: JsonValueKind.Object } element)
        {
            var empty = body is null or { ValueKind: JsonValueKind.Undefined };
            if (!empty || !emptyAllowed)
            {
                errors.Add("body", "The request body must be a JSON object.");
            }
            return Empty(errors);
        }
        if (InvalidText(element, "body") is { } field)
        {
            errors.Add(field, "Must be valid Unicode text: an escaped surrogate (\\uD800-\\uDFFF) must be half of a pair.");
            return Empty(errors);
        }
        return new BodyFields(element, errors);
    }

    private static BodyFields Empty(ValidationErrors errors)
    {
        using var nothing = JsonDocument.Parse("{}");
        return new BodyFields(nothing.RootElement.Clone(), errors);
    }

    /// <summary>
    /// The first string or property name that JSON's escapes let through but .NET cannot hold as text (a lone
    /// surrogate), as the field to name; null when every one is valid. Checked once, before any field is read.
    /// </summary>
    private static string? InvalidText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsText(() => element.GetString()) ? null : path;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (InvalidText(item, $"{path}[{index++}]") is { } invalid)
                    {
                        return invalid;
                    }
                }
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsText(() => property.Name))
                    {
                        return path;
                    }
                    if (InvalidText(property.Value, path == "body" ? property.Name : $"{path}.{property.Name}") is { } invalid)
                    {
                        return invalid;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    private static bool IsText(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public bool Has(string name) => _body.TryGetProperty(name, out _);

    public int Count => _body.EnumerateObject().Count();

    public string? Text(string name, bool required, int maxLength, Func<string, bool> isValid, string rule)
    {
        if (!Property(name, required, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            _errors.Add(name, "Must be a string.");
            return null;
        }
        var text = value.GetString()!;
        if (text.Length > maxLength)
        {
            _errors.Add(name, $"Must be at most {maxLength} characters.");
            return null;
        }
        if (!isValid(text))
        {
            _errors.Add(name, rule);
            return null;
        }
        return text;
    }

    public List<string>? Capabilities(string name, bool required)
    {
        if (!Property(name, required, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            _errors.Add(name, "Must be an array of 'resource:action' strings.");
            return null;
        }
        var capabilities = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var field = $"{name}[{index++}]";
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { } capability)
            {
                _errors.Add(field, "Must be a string.");
            }
            else if (!AgentRules.IsValidCapability(capability))
            {
                _errors.Add(field, "Must be 'resource:action': letters, digits, '.', '_' or '-' on each side, up to 64 characters each.");
            }
            else if (capability == AdminCapabilities.AgentsSelf)
            {
                // Granted on request to every agent, so holding it would mean nothing; refused so that nobody thinks it does.
                _errors.Add(field, $"'{AdminCapabilities.AgentsSelf}' is not a capability: every agent may request it as a scope for itself.");
            }
            else if (capabilities.Contains(capability, StringComparer.Ordinal))
            {
                _errors.Add(field, $"'{capability}' is listed twice.");
            }
            else
            {
                capabilities.Add(capability);
            }
        }
        if (index == 0)
        {
            _errors.Add(name, "At least one capability is required.");
        }
        else if (index > AgentRules.MaxCapabilities)
        {
            _errors.Add(name, $"At most {AgentRules.MaxCapabilities} capabilities.");
        }
        return capabilities;
    }

    /// <summary>An enum member, written in lower case, among <paramref name="allowed"/> (all members when null).</summary>
    public TEnum? Enum<TEnum>(string name, bool required, IReadOnlyCollection<TEnum>? allowed = null) where TEnum : struct, Enum
    {
        allowed ??= System.Enum.GetValues<TEnum>();
        if (!Property(name, required, out var value))
        {
            return null;
        }
        var names = string.Join(", ", allowed.Select(Wire));
        if (value.ValueKind == JsonValueKind.String &&
            allowed.FirstOrDefault(member => Wire(member) == value.GetString()) is var match && Wire(match) == value.GetString())
        {
            return match;
        }
        _errors.Add(name, $"Must be one of: {names}.");
        return null;
    }

    public DateTimeOffset? Timestamp(string name, bool required)
    {
        if (!Property(name, required, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String && TryParseTimestamp(value.GetString()!, out var timestamp))
        {
            return timestamp;
        }
        _errors.Add(name, "Must be an RFC 3339 timestamp with a time zone, for example 2026-12-31T23:59:59Z.");
        return null;
    }

    /// <summary>
    /// Every field of the body must have been asked for: a misspelt field is an error, not silently ignored,
    /// and its message names the fields the body takes.
    /// </summary>
    public void RejectUnknownFields()
    {
        foreach (var property in _body.EnumerateObject())
        {
            if (!_known.Contains(property.Name))
            {
                _errors.Add(property.Name, $"Unknown field; this body's fields are: {string.Join(", ", _known.Order(StringComparer.Ordinal))}.");
            }
        }
    }

    /// <summary>RFC 3339 date-time with an explicit offset (or Z), in UTC.</summary>
    public static bool TryParseTimestamp(string text, out DateTimeOffset timestamp)
    {
        timestamp = default;
        return Rfc3339().IsMatch(text) &&
               DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out timestamp) &&
               (timestamp = timestamp.ToUniversalTime()) == timestamp;
    }

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    public static string Wire<TEnum>(TEnum member) where TEnum : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(member.ToString());

    private bool Property(string name, bool required, out JsonElement value)
    {
        _known.Add(name);
        if (!_body.TryGetProperty(name, out value))
        {
            if (required)
            {
                _errors.Add(name, "Is required.");
            }
            return false;
        }
        if (value.ValueKind == JsonValueKind.Null)
        {
            _errors.Add(name, required ? "Is required." : "Must not be null; leave the field out to keep its value.");
            return false;
        }
        return true;
    }
}
