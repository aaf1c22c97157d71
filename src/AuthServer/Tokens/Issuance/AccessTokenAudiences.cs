using AgentIdp.Core.Agents;
using AgentIdp.Core.Configuration;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// Whom an access token is for, as Duende IdentityServer decides it from API resources: the admin API is a
/// resource of its own (ADMIN_AUDIENCE) that owns the admin API's scopes, so a token carries ADMIN_AUDIENCE
/// exactly when it carries one of them or ADMIN_AUDIENCE was requested as a <c>resource</c>. Every other scope
/// is for the requested <c>resource</c>s, or AUDIENCE when none was requested. A token an agent sends to
/// another API therefore never acts at the admin API.
/// </summary>
public static class AccessTokenAudiences
{
    /// <param name="scopes">The token's scopes, as granted.</param>
    /// <param name="resources">The requested <c>resource</c>s, in request order; empty when none was requested.</param>
    public static IReadOnlyList<string> For(IReadOnlyCollection<string> scopes, IReadOnlyCollection<string> resources, IssuerOptions issuer)
    {
        var audiences = new List<string>();
        var forAdminApi = scopes.Any(AdminCapabilities.IsApiScope);
        if (forAdminApi)
        {
            audiences.Add(issuer.AdminAudience);
        }
        if (resources.Count > 0)
        {
            audiences.AddRange(resources);
        }
        else if (!forAdminApi || scopes.Any(scope => !AdminCapabilities.IsApiScope(scope)))
        {
            // A token with no scope at all (an agent without capabilities) is for AUDIENCE too, as it always was.
            audiences.Add(issuer.Audience);
        }
        return [.. audiences.Distinct(StringComparer.Ordinal)];
    }
}
