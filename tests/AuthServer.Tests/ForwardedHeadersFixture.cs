using System.Net;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace AuthServer.Tests;

/// <summary>Behind a proxy that says who the caller is (ASPNETCORE_FORWARDEDHEADERS_ENABLED), as in Kubernetes.</summary>
public sealed class ForwardedHeadersFixture : AuthServerFixture
{
    public const string CallerIp = "203.0.113.7";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FORWARDEDHEADERS_ENABLED"] = "true" };

    public override HttpClient CreateClient()
    {
        var client = base.CreateClient();
        client.DefaultRequestHeaders.Add("X-Forwarded-For", CallerIp);
        return client;
    }
}
