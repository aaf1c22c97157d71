using AgentIdp.Core.Agents;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tokens.Issuance;

/// <summary>
/// An agent may request only scopes among its capabilities (RFC 6749 §5.2 <c>invalid_scope</c>), and
/// <c>agents:self</c>, which every agent that authenticated (and so is active) may request for itself.
/// </summary>
public sealed class ValidateRequestedScopes : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<ValidateRequestedScopes>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateAuthentication.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        var caller = context.Transaction.GetCaller();
        var outside = context.Request.GetScopes().Where(scope => scope != AdminCapabilities.AgentsSelf && !caller.Holds(scope)).ToList();
        if (outside.Count > 0)
        {
            context.Reject(Errors.InvalidScope,
                $"The agent does not hold the requested scope{(outside.Count > 1 ? "s" : "")} {string.Join(", ", outside.Select(s => $"'{s}'"))}.");
        }
        return ValueTask.CompletedTask;
    }
}
