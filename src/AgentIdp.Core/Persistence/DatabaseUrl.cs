using Npgsql;

namespace AgentIdp.Core.Persistence;

/// <summary>
/// Turns DATABASE_URL into an Npgsql connection string. It accepts a <c>postgres://</c> (or
/// <c>postgresql://</c>) URI, as Heroku, Render and most managed PostgreSQL services hand out,
/// or an Npgsql connection string as it is.
/// </summary>
public static class DatabaseUrl
{
    public static string ToConnectionString(string databaseUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databaseUrl);
        // Messages below never echo the value: it usually carries a password.
        if (!databaseUrl.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !databaseUrl.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(databaseUrl).ConnectionString;
            }
            catch (ArgumentException)
            {
                throw new FormatException("DATABASE_URL is neither a postgres:// URI nor a valid Npgsql connection string.");
            }
        }

        if (!Uri.TryCreate(databaseUrl, UriKind.Absolute, out var uri))
        {
            throw new FormatException("DATABASE_URL is not a valid postgres:// URI.");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        if (!string.IsNullOrEmpty(uri.Host))
        {
            builder.Host = uri.Host.Trim('[', ']');
        }
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var separator = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(separator < 0 ? uri.UserInfo : uri.UserInfo[..separator]);
            if (separator >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(separator + 1)..]);
            }
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var (key, value) in ParseQuery(uri.Query))
        {
            try
            {
                switch (key)
                {
                    case "sslmode":
                        builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
                        break;
                    case "host": // a Unix socket directory, as libpq allows
                        builder.Host = value;
                        break;
                    case "application_name":
                        builder.ApplicationName = value;
                        break;
                    case "connect_timeout":
                        builder.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    default:
                        builder[key] = value; // any Npgsql keyword, e.g. "Maximum Pool Size"
                        break;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                throw new FormatException($"DATABASE_URL has an unsupported or invalid query parameter '{key}'.");
            }
        }
        return builder.ConnectionString;
    }

    private static IEnumerable<(string Key, string Value)> ParseQuery(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(separator < 0 ? pair : pair[..separator]);
            var value = separator < 0 ? "" : Uri.UnescapeDataString(pair[(separator + 1)..].Replace('+', ' '));
            yield return (key, value);
        }
    }
}
