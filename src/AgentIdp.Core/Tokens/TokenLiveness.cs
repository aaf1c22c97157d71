using System.Security.Claims;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AgentIdp.Core.Tokens;

/// <summary>The claims of an access token that decide whether it still stands.</summary>
public sealed record IssuedTokenClaims(string TokenId, Guid AgentId, Guid CredentialId, int SecretVersion, int SecurityStamp)
{
    /// <summary>Reads the claims from a validated token; null when the token is not one AgentIdP issued to an agent.</summary>
    public static IssuedTokenClaims? From(ClaimsPrincipal principal)
    {
        var tokenId = principal.FindFirst(RegisteredClaims.TokenId)?.Value;
        return !string.IsNullOrEmpty(tokenId) &&
               Guid.TryParse(principal.FindFirst(RegisteredClaims.Subject)?.Value, out var agentId) &&
               Guid.TryParse(principal.FindFirst(AgentIdpClaims.CredentialId)?.Value, out var credentialId) &&
               int.TryParse(principal.FindFirst(AgentIdpClaims.SecretVersion)?.Value, System.Globalization.CultureInfo.InvariantCulture, out var version) &&
               int.TryParse(principal.FindFirst(AgentIdpClaims.SecurityStamp)?.Value, System.Globalization.CultureInfo.InvariantCulture, out var stamp)
            ? new IssuedTokenClaims(tokenId, agentId, credentialId, version, stamp)
            : null;
    }
}

/// <summary>
/// Decides whether a correctly signed, unexpired access token still stands: not revoked, issued from
/// the credential's current secret (so rotation and revocation end it), held by an active agent whose
/// security stamp has not moved since (so suspension and capability changes end it too).
/// Both services ask this on every use of a token, so changes take effect at once on every replica.
/// </summary>
public sealed class TokenLiveness(AgentIdpDbContext db)
{
    private static readonly Func<AgentIdpDbContext, Guid, Guid, int, int, string, CancellationToken, Task<bool>> IsLive =
        EF.CompileAsyncQuery((AgentIdpDbContext context, Guid credentialId, Guid agentId, int secretVersion, int securityStamp, string tokenId, CancellationToken _) =>
            context.Credentials.Any(c =>
                c.Id == credentialId &&
                c.AgentId == agentId &&
                c.SecretVersion == secretVersion &&
                c.Status == CredentialStatus.Active &&
                c.Agent!.Status == AgentStatus.Active &&
                c.Agent.SecurityStamp == securityStamp &&
                !context.RevokedTokens.Any(r => r.TokenId == tokenId)));

    public Task<bool> IsLiveAsync(IssuedTokenClaims token, CancellationToken cancellationToken) =>
        IsLive(db, token.CredentialId, token.AgentId, token.SecretVersion, token.SecurityStamp, token.TokenId, cancellationToken);
}
