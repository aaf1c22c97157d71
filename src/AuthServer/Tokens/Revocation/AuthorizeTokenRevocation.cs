using AgentIdp.Core.Agents;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Revocation;

/// <summary>
/// An agent may revoke the tokens issued to itself; an agent holding <c>agents:write</c> may revoke any
/// token. Replaces OpenIddict's audience-or-presenter rule, which would silently ignore the second case.
/// </summary>
public sealed class AuthorizeTokenRevocation : IOpenIddictServerHandler<ValidateRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateRevocationRequestContext>()
            .UseSingletonHandler<AuthorizeTokenRevocation>()
            .SetOrder(OpenIddictServerHandlers.Revocation.ValidateAuthorizedParty.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateRevocationRequestContext context)
    {
        var caller = context.Transaction.GetCaller();
        var holder = context.GenericTokenPrincipal?.GetClaim(Claims.ClientId);
        if (holder != caller.AgentId.ToString() && !caller.Holds(AdminCapabilities.AgentsWrite))
        {
            context.Reject(Errors.UnauthorizedClient,
                $"An agent may revoke only its own tokens unless it holds the '{AdminCapabilities.AgentsWrite}' capability.");
        }
        return ValueTask.CompletedTask;
    }
}
