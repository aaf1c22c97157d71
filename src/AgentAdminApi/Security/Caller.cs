using System.Security.Claims;
using AgentIdp.Core.Tokens;

namespace AgentAdminApi.Security;

/// <summary>The agent behind the bearer token of the current request.</summary>
public static class Caller
{
    public static Guid? AgentId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirst(RegisteredClaims.Subject)?.Value, out var id) ? id : null;

    public static bool Holds(this ClaimsPrincipal user, string capability) =>
        user.FindAll(RegisteredClaims.Scope).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Contains(capability, StringComparer.Ordinal);
}
