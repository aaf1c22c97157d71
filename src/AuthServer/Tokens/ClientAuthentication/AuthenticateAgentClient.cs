using System.Text.Json;
using AgentIdp.Core.Errors;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Telemetry;
using AuthServer.Audit;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// Client credentials (client_secret_basic or client_secret_post) must be an agent's (<see cref="AgentSecretValidator"/>);
/// every failure gets the same answer, the audit log the reason. Failures count toward the lockout of the
/// claimed client id and of the source (<see cref="ClientLockout"/>); a locked one is refused before any secret
/// check, with that same answer.
/// </summary>
/// <remarks>It stands where OpenIddict's client-secret check would, which degraded mode leaves out: the agents table is the only list of clients.</remarks>
public sealed class AuthenticateAgentClient(AgentSecretValidator validator, ClientLockout lockout, AuditTrail audit, TimeProvider time, AgentIdpMetrics metrics)
    : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public const string InvalidCredentials = "The client credentials are invalid.";
    public const string VaultReadError = ErrorCodes.VaultReadError + ": the secret store that holds this credential could not be read; retry later.";
    public const string Overloaded = "The server is busy checking other clients' secrets; retry after the number of seconds in Retry-After.";

    private static readonly TimeSpan ShedRetryAfter = TimeSpan.FromSeconds(1);

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseSingletonHandler<AuthenticateAgentClient>()
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.EndpointType is not (OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.Introspection
            or OpenIddictServerEndpointType.Revocation))
        {
            return;
        }
        if (string.IsNullOrEmpty(context.ClientId) && string.IsNullOrEmpty(context.ClientSecret))
        {
            return; // no client credentials: a bearer token may authenticate an introspection call (AuthenticateBearerCaller)
        }

        var ip = context.Transaction.CallerIp();
        var keys = lockout.KeysFor(context.ClientId, ip);
        var result = await validator.ValidateAsync(context.ClientId, context.ClientSecret, keys, context.CancellationToken);
        metrics.ClientAuthenticated(result, context.Transaction.ClientAuthenticationMethod());
        if (result.Failure == AuthenticationFailure.Overloaded)
        {
            // Shed before any verdict: nothing to audit, and the caller is told to come back shortly.
            context.Transaction.SetRetryAfter(ShedRetryAfter);
            context.Reject(Errors.TemporarilyUnavailable, Overloaded);
            return;
        }
        if (result.Agent is not { } agent)
        {
            // The claimed client id is recorded only when it is an agent id: anything else is the caller's free
            // text, which may be a secret sent in the wrong field.
            var claimed = Guid.TryParseExact(context.ClientId, "D", out var id) && id.ToString() == context.ClientId ? id : (Guid?)null;
            var endpoint = context.EndpointType.EndpointName();
            audit.RecordAuthFailure(endpoint, JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Failure.ToString()!),
                claimed, clientIdMalformed: claimed is null && !string.IsNullOrEmpty(context.ClientId), ip, time.GetUtcNow());
            if (result.Failure!.Value.CountsTowardLockout())
            {
                await lockout.CountFailureAsync(keys, endpoint, ip);
            }
            if (result.Failure == AuthenticationFailure.SecretStoreUnavailable)
            {
                // Not the caller's fault, and not a verdict on its secret: a server error it may retry.
                context.Reject(Errors.ServerError, VaultReadError);
                return;
            }
            context.Reject(Errors.InvalidClient, InvalidCredentials);
            return;
        }
        await lockout.ForgetClientFailuresAsync(keys, result.ClientFailuresBefore);
        context.Transaction.SetCaller(new AuthenticatedCaller(agent.AgentId, agent.Capabilities.ToHashSet(StringComparer.Ordinal), agent));
    }
}
