using AgentIdp.Core.Agents;

namespace AgentAdminApi.Requests;

/// <summary>Query-string values read with the same rules and messages as body fields.</summary>
public static class QueryValues
{
    public static TEnum? Enum<TEnum>(string? raw, string field, ValidationErrors errors) where TEnum : struct, Enum
    {
        if (raw is null)
        {
            return null;
        }
        foreach (var member in System.Enum.GetValues<TEnum>())
        {
            if (BodyFields.Wire(member) == raw)
            {
                return member;
            }
        }
        errors.Add(field, $"Must be one of: {string.Join(", ", System.Enum.GetValues<TEnum>().Select(BodyFields.Wire))}.");
        return null;
    }

    public static Guid? Id(string? raw, string field, ValidationErrors errors)
    {
        if (raw is null)
        {
            return null;
        }
        if (Guid.TryParse(raw, out var id))
        {
            return id;
        }
        errors.Add(field, "Must be a UUID.");
        return null;
    }

    public static DateTimeOffset? Timestamp(string? raw, string field, ValidationErrors errors)
    {
        if (raw is null)
        {
            return null;
        }
        if (BodyFields.TryParseTimestamp(raw, out var timestamp))
        {
            return timestamp;
        }
        errors.Add(field, "Must be an RFC 3339 timestamp with a time zone, for example 2026-12-31T23:59:59Z.");
        return null;
    }

    public static string? Owner(string? raw, ValidationErrors errors)
    {
        if (raw is not null && !AgentRules.IsValidOwner(raw))
        {
            errors.Add("owner", $"Must be 1 to {AgentRules.MaxOwnerLength} characters.");
            return null;
        }
        return raw;
    }
}
