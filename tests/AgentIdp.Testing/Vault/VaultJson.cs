using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentIdp.Testing.Vault;

/// <summary>A response: a status and, unless it is null (204, HEAD), a JSON body.</summary>
internal sealed record VaultReply(int Status, JsonObject? Body);

/// <summary>Vault's JSON shapes: the response envelope, error bodies, Go time and duration formats.</summary>
internal static class VaultJson
{
    public const string PermissionDeniedMessage = "permission denied";

    public static VaultReply NoContent() => new(204, null);

    /// <summary>An error status with <c>{"errors": [...]}</c>; no messages gives <c>{"errors": []}</c>.</summary>
    public static VaultReply Error(int status, params string[] messages)
    {
        var errors = new JsonArray();
        foreach (var message in messages)
        {
            errors.Add(message);
        }
        return new VaultReply(status, new JsonObject { ["errors"] = errors });
    }

    public static VaultReply PermissionDenied() => Error(403, PermissionDeniedMessage);

    public static VaultReply NotFound() => Error(404);

    public static VaultReply BadRequest(string message) => Error(400, message);

    /// <summary>Go's multierror wording, which Vault uses for errors raised inside its request handling.</summary>
    public static string MultiError(string message) => $"1 error occurred:\n\t* {message}\n\n";

    public static VaultReply UnsupportedOperation() => Error(405, MultiError("unsupported operation"));

    public static VaultReply Ok(JsonNode? data, JsonObject? auth = null) => new(200, Envelope(data, auth));

    /// <summary>The envelope of every successful logical response, in Vault's member order.</summary>
    public static JsonObject Envelope(JsonNode? data, JsonObject? auth = null) => new()
    {
        ["request_id"] = Guid.NewGuid().ToString(),
        ["lease_id"] = "",
        ["renewable"] = false,
        ["lease_duration"] = 0,
        ["data"] = data,
        ["wrap_info"] = null,
        ["warnings"] = null,
        ["auth"] = auth,
    };

    /// <summary>Go's <c>time.RFC3339Nano</c> in UTC: trailing zeros of the fraction dropped, and the dot too when it is zero.</summary>
    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    public static long Seconds(TimeSpan span) => (long)Math.Floor(span.TotalSeconds);

    public static JsonArray Strings(IEnumerable<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
        {
            array.Add(value);
        }
        return array;
    }

    /// <summary>
    /// Vault's <c>parseutil.ParseDurationSecond</c>: a JSON number or a string of digits is seconds, a string
    /// ending in <c>d</c> is days, anything else a Go duration such as <c>720h</c> or <c>1h30m</c>.
    /// </summary>
    public static bool TryParseDuration(JsonElement value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.Number when value.TryGetDouble(out var seconds) && double.IsFinite(seconds):
                duration = TimeSpan.FromSeconds(seconds);
                return true;
            case JsonValueKind.String:
                return TryParseDuration(value.GetString()!, out duration);
            default:
                return false;
        }
    }

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
        {
            return true;
        }
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var wholeSeconds))
        {
            duration = TimeSpan.FromSeconds(wholeSeconds);
            return true;
        }
        if (text.EndsWith('d'))
        {
            if (!long.TryParse(text[..^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var days))
            {
                return false;
            }
            duration = TimeSpan.FromDays(days);
            return true;
        }
        return TryParseGoDuration(text, out duration);
    }

    private static bool TryParseGoDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var negative = false;
        var i = 0;
        if (text[0] is '+' or '-')
        {
            negative = text[0] == '-';
            i = 1;
        }
        if (i == text.Length)
        {
            return false;
        }
        double totalSeconds = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
            {
                i++;
            }
            double? scale = text[unitStart..i] switch
            {
                "ns" => 1e-9,
                "us" or "µs" or "μs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => null,
            };
            if (scale is null)
            {
                return false;
            }
            totalSeconds += number * scale.Value;
        }
        duration = TimeSpan.FromSeconds(negative ? -totalSeconds : totalSeconds);
        return true;
    }
}
