using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AgentIdp.Core.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentAdminApi.Tests;

public sealed class RateLimitedAdminApiFixture : AdminApiFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["ADMIN_RATE_LIMIT_PER_MINUTE"] = "3" };
}
