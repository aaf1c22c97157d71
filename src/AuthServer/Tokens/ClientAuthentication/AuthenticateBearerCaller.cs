using AgentIdp.Core.Configuration;
using AuthServer.Audit;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// At the introspection endpoint, a resource server may authenticate with a bearer access token of its
/// own instead of client credentials (RFC 7662 §2.1). The token is validated like any other, including
/// revocation and the state of its credential and agent, and must be meant for AgentIdP's admin API (its
/// audience holds ADMIN_AUDIENCE, as every token carrying <c>tokens:read</c> does): a token an agent sent to
/// another API cannot be replayed here. Its scopes become the caller's capabilities. A token that fails counts
/// toward its source's lockout (<see cref="ClientLockout"/>); a valid one is accepted from a locked source too,
/// since checking it costs no bcrypt and it cannot be guessed.
/// </summary>
public sealed class AuthenticateBearerCaller(
    IOpenIddictServerDispatcher dispatcher, ClientLockout lockout, AuditTrail audit, IOptions<IssuerOptions> issuer, TimeProvider time)
    : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseScopedHandler<AuthenticateBearerCaller>()
            .SetOrder(AuthenticateAgentClient.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.EndpointType != OpenIddictServerEndpointType.Introspection || context.Transaction.FindCaller() is not null)
        {
            return;
        }
        var authorization = context.Transaction.GetHttpRequest()?.Headers.Authorization.ToString();
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var validation = new ValidateTokenContext(context.Transaction)
        {
            Token = authorization["Bearer ".Length..].Trim(),
            ValidTokenTypes = { TokenTypeIdentifiers.AccessToken },
        };
        await dispatcher.DispatchAsync(validation);
        if (validation.IsRejected || validation.Principal is null ||
            !Guid.TryParse(validation.Principal.GetClaim(Claims.Subject), out var agentId) ||
            !validation.Principal.GetAudiences().Contains(issuer.Value.AdminAudience, StringComparer.Ordinal))
        {
            var ip = context.Transaction.CallerIp();
            var endpoint = context.EndpointType.EndpointName();
            audit.RecordAuthFailure(endpoint, "invalid_bearer_token", claimedClientId: null, clientIdMalformed: false, ip, time.GetUtcNow());
            await lockout.CountFailureAsync(lockout.KeysFor(clientId: null, ip), endpoint, ip);
            context.Reject(Errors.InvalidClient, "The bearer token that authenticates the caller is invalid.");
            return;
        }
        context.Transaction.SetCaller(new AuthenticatedCaller(
            agentId, validation.Principal.GetScopes().ToHashSet(StringComparer.Ordinal), Credential: null));
    }
}
