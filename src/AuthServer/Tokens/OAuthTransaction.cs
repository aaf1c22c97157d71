using System.Net;
using AuthServer.Tokens.ClientAuthentication;
using Microsoft.AspNetCore;
using OpenIddict.Server;

namespace AuthServer.Tokens;

/// <summary>What AgentIdP's handlers leave for each other on an OpenIddict transaction.</summary>
internal static class OAuthTransaction
{
    private static readonly string Prefix = typeof(OAuthTransaction).Namespace + ".";
    private static readonly string CallerProperty = Prefix + nameof(AuthenticatedCaller);
    private static readonly string IssuedTokenIdProperty = Prefix + "IssuedTokenId";
    private static readonly string RetryAfterProperty = Prefix + "RetryAfter";

    public static void SetCaller(this OpenIddictServerTransaction transaction, AuthenticatedCaller caller) =>
        transaction.SetProperty(CallerProperty, caller);

    public static AuthenticatedCaller? FindCaller(this OpenIddictServerTransaction transaction) =>
        transaction.GetProperty<AuthenticatedCaller>(CallerProperty);

    public static AuthenticatedCaller GetCaller(this OpenIddictServerTransaction transaction) =>
        transaction.FindCaller() ?? throw new InvalidOperationException("The caller has not been authenticated.");

    /// <summary>The <c>jti</c> of the access token this request was issued.</summary>
    public static void SetIssuedTokenId(this OpenIddictServerTransaction transaction, string tokenId) =>
        transaction.Properties[IssuedTokenIdProperty] = tokenId;

    public static string? FindIssuedTokenId(this OpenIddictServerTransaction transaction) =>
        transaction.Properties.TryGetValue(IssuedTokenIdProperty, out var value) ? value as string : null;

    /// <summary>How long a caller refused for now should wait: answered as <c>Retry-After</c>.</summary>
    public static void SetRetryAfter(this OpenIddictServerTransaction transaction, TimeSpan wait) =>
        transaction.Properties[RetryAfterProperty] = wait;

    public static TimeSpan? FindRetryAfter(this OpenIddictServerTransaction transaction) =>
        transaction.Properties.TryGetValue(RetryAfterProperty, out var value) && value is TimeSpan wait ? wait : null;

    public static IPAddress? CallerIp(this OpenIddictServerTransaction transaction) =>
        transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress;

    /// <summary>How the client sent its secret: in the Authorization header or in the form (OpenIddict refuses both at once).</summary>
    public static string ClientAuthenticationMethod(this OpenIddictServerTransaction transaction) =>
        transaction.GetHttpRequest()?.Headers.Authorization.ToString().StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) == true
            ? OpenIddict.Abstractions.OpenIddictConstants.ClientAuthenticationMethods.ClientSecretBasic
            : OpenIddict.Abstractions.OpenIddictConstants.ClientAuthenticationMethods.ClientSecretPost;

    public static string EndpointName(this OpenIddictServerEndpointType endpoint) => endpoint switch
    {
        OpenIddictServerEndpointType.Token => "token",
        OpenIddictServerEndpointType.Introspection => "introspection",
        OpenIddictServerEndpointType.Revocation => "revocation",
        _ => endpoint.ToString().ToLowerInvariant(),
    };
}
