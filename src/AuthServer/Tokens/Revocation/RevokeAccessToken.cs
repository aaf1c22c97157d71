using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Persistence;
using AuthServer.Audit;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Revocation;

/// <summary>
/// Records the token's jti in <c>revoked_tokens</c> until the token would have expired; from then on it
/// introspects as inactive and the admin API refuses it. Revoking twice is harmless (RFC 7009 §2.2).
/// </summary>
public sealed class RevokeAccessToken(AgentIdpDbContext db, AuditTrail audit, TimeProvider time)
    : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .UseScopedHandler<RevokeAccessToken>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        var tokenId = principal.GetClaim(Claims.JwtId);
        if (string.IsNullOrEmpty(tokenId))
        {
            context.Reject(Errors.UnsupportedTokenType, "Only access tokens issued by this server can be revoked.");
            return;
        }
        var now = time.GetUtcNow();
        Guid? agentId = Guid.TryParse(principal.GetClaim(Claims.Subject), out var subject) ? subject : null;
        var expiresAt = principal.GetExpirationDate() ?? now;
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO revoked_tokens (token_id, agent_id, revoked_at, expires_at)
            VALUES ({tokenId}, {agentId}, {now}, {expiresAt})
            ON CONFLICT (token_id) DO NOTHING
            """, context.CancellationToken);
        audit.Record(AuditEvent.Create(
            AuditActions.TokenRevoked, AuditOutcome.Success, now,
            agentId: agentId,
            actor: context.Transaction.GetCaller().AgentId.ToString(),
            ip: context.Transaction.CallerIp(),
            details: JsonSerializer.Serialize(new { jti = tokenId })));
    }
}
