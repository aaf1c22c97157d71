using System.Globalization;
using System.Text.Json;

namespace AgentIdp.Bench;

/// <summary>
/// What one wrk run measured, as token.lua's <c>done()</c> prints it on one line. Every answer that was not
/// 2xx is counted in <see cref="Non2xx"/> (wrk's own errors.status counts only statuses above 399).
/// </summary>
internal sealed record WrkResult(
    long Requests, TimeSpan Duration, TimeSpan LatencyP50, TimeSpan LatencyP99, long Non2xx, SocketErrors SocketErrors,
    IReadOnlyDictionary<int, long> Statuses)
{
    public const string Marker = "BENCH_RESULT ";

    private static readonly JsonSerializerOptions LineFormat = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectRequiredConstructorParameters = true, // a field missing from the line makes it unreadable, not zero
    };

    /// <summary>Tokens issued per second: 2xx answers only.</summary>
    public double TokensPerSecond => (Requests - Non2xx) / Duration.TotalSeconds;

    /// <summary>The last result line among wrk's output, or null when there is none or it cannot be read.</summary>
    public static WrkResult? Parse(IEnumerable<string> output)
    {
        var line = output.LastOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }
        try
        {
            var result = JsonSerializer.Deserialize<Line>(line[Marker.Length..], LineFormat);
            if (result is null || result.DurationUs <= 0)
            {
                return null;
            }
            return new WrkResult(
                result.Requests,
                TimeSpan.FromMicroseconds(result.DurationUs),
                TimeSpan.FromMicroseconds(result.LatencyP50Us),
                TimeSpan.FromMicroseconds(result.LatencyP99Us),
                result.Non2xx,
                new SocketErrors(result.Errors.Connect, result.Errors.Read, result.Errors.Write, result.Errors.Timeout),
                result.Statuses.ToDictionary(status => int.Parse(status.Key, CultureInfo.InvariantCulture), status => status.Value));
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException)
        {
            return null;
        }
    }

    private sealed record Line(
        long Requests, long DurationUs, double LatencyP50Us, double LatencyP99Us, long Non2xx, LineErrors Errors, Dictionary<string, long> Statuses);

    private sealed record LineErrors(long Connect, long Read, long Write, long Timeout);
}

/// <summary>wrk's socket errors: connections that failed, reads and writes that failed, and answers slower than its timeout.</summary>
internal sealed record SocketErrors(long Connect, long Read, long Write, long Timeout)
{
    public long Total => Connect + Read + Write + Timeout;
}
