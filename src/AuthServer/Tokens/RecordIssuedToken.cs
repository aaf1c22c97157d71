using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Tokens;
using AuthServer.Audit;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens;

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
        var token = new JsonWebToken(context.AccessToken);
        audit.Record(AuditEvent.Create(
            AuditActions.TokenIssued, AuditOutcome.Success, now,
            agentId: credential.AgentId,
            actor: credential.AgentId.ToString(),
            ip: context.Transaction.CallerIp(),
            details: JsonSerializer.Serialize(new
            {
                jti = token.Id,
                credentialId = credential.CredentialId,
                scope = context.AccessTokenPrincipal?.GetScopes() ?? [],
                aud = token.Audiences,
                expiresAt = token.ValidTo,
            })));
        audit.RecordCredentialUse(credential.CredentialId, now);
        return ValueTask.CompletedTask;
    }
}
