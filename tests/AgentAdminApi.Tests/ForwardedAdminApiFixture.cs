using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace AgentAdminApi.Tests;

/// <summary>Requests carry X-Forwarded-For, as behind an ingress, so the recorded IP is known.</summary>
public sealed class ForwardedAdminApiFixture : AdminApiFixture
{
    public const string CallerIp = "198.51.100.23";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FORWARDEDHEADERS_ENABLED"] = "true" };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Admin.DefaultRequestHeaders.Add("X-Forwarded-For", CallerIp);
    }
}
