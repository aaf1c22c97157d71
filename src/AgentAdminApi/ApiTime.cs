namespace AgentAdminApi;

/// <summary>Timestamps as the API shows them: UTC ("Z"), at the microsecond precision PostgreSQL keeps, so a response that creates a row and a later read of it agree.</summary>
public static class ApiTime
{
    public static DateTime Utc(DateTimeOffset value) => new(value.UtcTicks - value.UtcTicks % 10, DateTimeKind.Utc);

    public static DateTime? Utc(DateTimeOffset? value) => value is { } v ? Utc(v) : null;
}
