using AgentIdp.Core.Secrets;

namespace AuthServer.Tokens.ClientAuthentication;

/// <summary>
/// The agent calling the token, introspection or revocation endpoint, once authenticated: by one of its
/// credentials (<see cref="Credential"/>), or at the introspection endpoint by a bearer token whose
/// scopes are then its capabilities.
/// </summary>
public sealed record AuthenticatedCaller(Guid AgentId, IReadOnlySet<string> Capabilities, VerifiedCredential? Credential)
{
    public bool Holds(string capability) => Capabilities.Contains(capability);
}
