using AgentIdp.Core.Persistence;
using Npgsql;

namespace AgentIdp.Core.Tests;

public sealed class DatabaseUrlTests
{
    [Fact]
    public void A_postgres_uri_becomes_a_connection_string()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(
            "postgres://agent%40idp:p%40ss%3Aw%2Fo%20rd@db.example.com:6543/agent%20idp?sslmode=verify-full&application_name=agentidp&connect_timeout=7"));

        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("agent@idp", builder.Username);
        Assert.Equal("p@ss:w/o rd", builder.Password);
        Assert.Equal("agent idp", builder.Database);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("agentidp", builder.ApplicationName);
        Assert.Equal(7, builder.Timeout);
    }

    [Fact]
    public void The_postgresql_scheme_ipv6_hosts_and_socket_directories_work()
    {
        var ipv6 = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgresql://u@[::1]/db"));
        var socket = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgresql:///db?host=/var/run/postgresql"));

        Assert.Equal("::1", ipv6.Host);
        Assert.Equal(5432, ipv6.Port);
        Assert.Equal("/var/run/postgresql", socket.Host);
        Assert.Equal("db", socket.Database);
    }

    [Fact]
    public void An_npgsql_connection_string_passes_through()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("Host=localhost;Port=5433;Database=a;Username=b;Password=c"));

        Assert.Equal(5433, builder.Port);
        Assert.Equal("c", builder.Password);
    }

    [Theory]
    [InlineData("Host=localhost;Bogus Keyword=1;Password=hunter2")]
    [InlineData("postgres://user:hunter2@host/db?sslmode=sometimes")]
    [InlineData("postgres://user:hunter2@host/db?no_such_option=1")]
    public void A_bad_url_is_refused_without_echoing_the_password(string url)
    {
        var error = Assert.Throws<FormatException>(() => DatabaseUrl.ToConnectionString(url));

        Assert.Contains("DATABASE_URL", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }
}
