using System.Net;
using Microsoft.Extensions.Options;

namespace AgentIdp.Core.Vault;

/// <summary>
/// Headers every Vault request carries: <c>X-Vault-Request: true</c> (a Vault Proxy may require it),
/// <c>X-Vault-Namespace</c> when VAULT_NAMESPACE is set, and a token given for this one call.
/// </summary>
public sealed class VaultRequestHeaders(IOptions<VaultOptions> options) : DelegatingHandler
{
    /// <summary>The token for this request (empty: none at all, as for a login), instead of the configured one.</summary>
    public static readonly HttpRequestOptionsKey<string> ExplicitToken = new("AgentIdp.Vault.Token");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove("X-Vault-Request");
        request.Headers.Add("X-Vault-Request", "true");
        if (!string.IsNullOrWhiteSpace(options.Value.Namespace))
        {
            request.Headers.Remove("X-Vault-Namespace");
            request.Headers.Add("X-Vault-Namespace", options.Value.Namespace);
        }
        if (request.Options.TryGetValue(ExplicitToken, out var token) && token.Length > 0)
        {
            VaultTokenHandler.SetToken(request, token);
        }
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Adds AgentIdP's Vault token; when Vault answers 403, gets a new token once (where the method can) and tries again.</summary>
public sealed class VaultTokenHandler(VaultTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(cancellationToken);
        SetToken(request, token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Forbidden && await tokens.ReauthenticateAsync(token, cancellationToken) is { } fresh)
        {
            response.Dispose();
            SetToken(request, fresh);
            response = await base.SendAsync(request, cancellationToken);
        }
        return response;
    }

    internal static void SetToken(HttpRequestMessage request, string? token)
    {
        request.Headers.Remove("X-Vault-Token");
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Add("X-Vault-Token", token);
        }
    }
}
