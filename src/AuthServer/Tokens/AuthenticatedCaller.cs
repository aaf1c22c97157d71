using System.Net;
using AgentIdp.Core.Secrets;
using OpenIddict.Server;
using Microsoft.AspNetCore;

namespace AuthServer.Tokens;

/// <summary>
/// The agent calling the token, introspection or revocation endpoint, once authenticated: by one of its
/// credentials (<see cref="Credential"/>), or at the introspection endpoint by a bearer token whose
/// scopes are then its capabilities.
/// </summary>
public sealed record AuthenticatedCaller(Guid AgentId, IReadOnlySet<string> Capabilities, AuthenticatedAgent? Credential)
{
    public bool Holds(string capability) => Capabilities.Contains(capability);
}

internal static class OAuthTransaction
{
    private static readonly string CallerProperty = typeof(AuthenticatedCaller).FullName!;

    public static void SetCaller(this OpenIddictServerTransaction transaction, AuthenticatedCaller caller) =>
        transaction.SetProperty(CallerProperty, caller);

    public static AuthenticatedCaller? FindCaller(this OpenIddictServerTransaction transaction) =>
        transaction.GetProperty<AuthenticatedCaller>(CallerProperty);

    public static AuthenticatedCaller GetCaller(this OpenIddictServerTransaction transaction) =>
        transaction.FindCaller() ?? throw new InvalidOperationException("The caller has not been authenticated.");

    public static IPAddress? CallerIp(this OpenIddictServerTransaction transaction) =>
        transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress;

    public static string EndpointName(this OpenIddictServerEndpointType endpoint) => endpoint switch
    {
        OpenIddictServerEndpointType.Token => "token",
        OpenIddictServerEndpointType.Introspection => "introspection",
        OpenIddictServerEndpointType.Revocation => "revocation",
        _ => endpoint.ToString().ToLowerInvariant(),
    };
}
