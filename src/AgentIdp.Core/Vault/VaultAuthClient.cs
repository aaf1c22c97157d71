using System.Text.Json;
using System.Text.Json.Nodes;
using AgentIdp.Core.Telemetry;

namespace AgentIdp.Core.Vault;

/// <summary>A token Vault handed out: the token itself, how long it lives (zero: until revoked), whether it can be renewed.</summary>
public sealed record VaultLease(string Token, TimeSpan Duration, bool Renewable);

/// <summary>Vault's auth endpoints: token lookup and renewal, Kubernetes and AppRole login. The token, when one is needed, is given per call.</summary>
public sealed class VaultAuthClient(HttpClient http, AgentIdpMetrics metrics)
{
    public async Task<VaultLease> LookupSelfAsync(string token, CancellationToken cancellationToken)
    {
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.TokenLookup, HttpMethod.Get, "v1/auth/token/lookup-self", null,
            cancellationToken, token);
        using var document = await VaultHttp.ReadSuccessAsync(response, "looking up the token", cancellationToken);
        var data = document.RootElement.GetProperty("data");
        return new VaultLease(token, TimeSpan.FromSeconds(data.TryGetProperty("ttl", out var ttl) && ttl.TryGetInt64(out var seconds) ? seconds : 0),
            data.TryGetProperty("renewable", out var renewable) && renewable.ValueKind == JsonValueKind.True);
    }

    public async Task<VaultLease> RenewSelfAsync(string token, CancellationToken cancellationToken)
    {
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.TokenRenewal, HttpMethod.Post, "v1/auth/token/renew-self", new JsonObject(),
            cancellationToken, token);
        return await ReadLeaseAsync(response, "renewing the token", cancellationToken);
    }

    public async Task<VaultLease> LoginWithKubernetesAsync(string authPath, string role, string serviceAccountJwt, CancellationToken cancellationToken)
    {
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.Login, HttpMethod.Post, $"v1/auth/{authPath.Trim('/')}/login",
            new JsonObject { ["role"] = role, ["jwt"] = serviceAccountJwt }, cancellationToken, token: "");
        return await ReadLeaseAsync(response, "logging in with Kubernetes auth", cancellationToken);
    }

    public async Task<VaultLease> LoginWithAppRoleAsync(string authPath, string roleId, string secretId, CancellationToken cancellationToken)
    {
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.Login, HttpMethod.Post, $"v1/auth/{authPath.Trim('/')}/login",
            new JsonObject { ["role_id"] = roleId, ["secret_id"] = secretId }, cancellationToken, token: "");
        return await ReadLeaseAsync(response, "logging in with AppRole", cancellationToken);
    }

    private static async Task<VaultLease> ReadLeaseAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        using var document = await VaultHttp.ReadSuccessAsync(response, what, cancellationToken);
        var auth = document.RootElement.GetProperty("auth");
        return new VaultLease(
            auth.GetProperty("client_token").GetString() ?? throw new VaultException($"Vault gave no token {what}."),
            TimeSpan.FromSeconds(auth.TryGetProperty("lease_duration", out var lease) && lease.TryGetInt64(out var seconds) ? seconds : 0),
            auth.TryGetProperty("renewable", out var renewable) && renewable.ValueKind == JsonValueKind.True);
    }
}
