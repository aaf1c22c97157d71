using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Tokens;
using AuthServer.Audit;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>Queues <c>token.issued</c> (never the token itself) and notes the credential's last use.</summary>
public sealed class RecordIssuedToken(AuditTrail audit, TimeProvider time) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<RecordIssuedToken>()
            .SetOrder(OpenIddictServerHandlers.GenerateAccessToken.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.EndpointType != OpenIddictServerEndpointType.Token || string.IsNullOrEmpty(context.AccessToken) ||
            context.Transaction.FindCaller()?.Credential is not { } credential)
        {
            return ValueTask.CompletedTask;
        }
        var now = time.GetUtcNow();
        var principal = context.AccessTokenPrincipal;
        audit.Record(AuditEvent.Create(
            AuditActions.TokenIssued, AuditOutcome.Success, now,
            agentId: credential.AgentId,
            actor: credential.AgentId.ToString(),
            ip: context.Transaction.CallerIp(),
            details: JsonSerializer.Serialize(new
            {
                jti = context.Transaction.FindIssuedTokenId(),
                credentialId = credential.CredentialId,
                scope = principal?.GetScopes() ?? [],
                aud = principal?.GetAudiences() ?? [],
                expiresAt = principal?.GetExpirationDate() is { } expires ? DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()).UtcDateTime : (DateTime?)null, // as the token says it: whole seconds
            })));
        audit.RecordCredentialUse(credential.CredentialId, now);
        return ValueTask.CompletedTask;
    }
}
