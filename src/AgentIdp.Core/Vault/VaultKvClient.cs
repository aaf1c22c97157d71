using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentIdp.Core.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AgentIdp.Core.Vault;

/// <summary>One version of a KV v2 secret. <see cref="Data"/> is null when that version was deleted or destroyed.</summary>
public sealed record VaultSecretVersion(IReadOnlyDictionary<string, string>? Data, int Version, bool Deleted, bool Destroyed);

public sealed record VaultHealth(int Status, bool Initialized, bool Sealed, bool Standby, string? Version);

/// <summary>
/// The few KV v2 calls AgentIdP makes, over a typed <see cref="HttpClient"/>: write a version, read one,
/// destroy every version, and <c>sys/health</c>. The client's handlers add the token and Vault's headers
/// and apply the resilience pipeline (per-call timeout, bounded retries of what may be retried, circuit
/// breaker); see <see cref="VaultServiceCollectionExtensions"/>.
/// </summary>
public sealed class VaultKvClient(HttpClient http, AgentIdpMetrics metrics)
{
    /// <summary>Writes a new version; returns its number. With <paramref name="checkAndSet"/>, only if the current version is that one (0: only if none).</summary>
    public async Task<int> WriteAsync(VaultSecretPath path, IReadOnlyDictionary<string, string> data, int? checkAndSet, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["data"] = new JsonObject(data.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))) };
        if (checkAndSet is { } cas)
        {
            body["options"] = new JsonObject { ["cas"] = cas };
        }
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.Write, HttpMethod.Post, path.DataUrl, body, cancellationToken);
        using var document = await VaultHttp.ReadSuccessAsync(response, $"writing {path}", cancellationToken);
        return document.RootElement.GetProperty("data").GetProperty("version").GetInt32();
    }

    /// <summary>
    /// Reads one version (the latest when <paramref name="version"/> is null). Null when there is no such
    /// secret or version (Vault's 404 with <c>errors: []</c>); a version with no data when it was deleted
    /// or destroyed (Vault's 404 that still carries the metadata).
    /// </summary>
    public async Task<VaultSecretVersion?> ReadAsync(VaultSecretPath path, int? version, CancellationToken cancellationToken)
    {
        var url = version is { } v ? $"{path.DataUrl}?version={v.ToString(CultureInfo.InvariantCulture)}" : path.DataUrl;
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.Read, HttpMethod.Get, url, null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            using var notFound = await VaultHttp.ReadJsonAsync(response, cancellationToken);
            if (notFound?.RootElement.TryGetProperty("data", out var data) == true && data.ValueKind == JsonValueKind.Object &&
                data.TryGetProperty("metadata", out var gone) && gone.ValueKind == JsonValueKind.Object)
            {
                return new VaultSecretVersion(null, gone.GetProperty("version").GetInt32(),
                    Deleted: gone.TryGetProperty("deletion_time", out var deleted) && deleted.ValueKind == JsonValueKind.String && deleted.GetString() != "",
                    Destroyed: gone.TryGetProperty("destroyed", out var destroyed) && destroyed.ValueKind == JsonValueKind.True);
            }
            return null;
        }
        using var document = await VaultHttp.ReadSuccessAsync(response, $"reading {path}", cancellationToken);
        var payload = document.RootElement.GetProperty("data");
        var metadata = payload.GetProperty("metadata");
        var values = payload.GetProperty("data").EnumerateObject().ToDictionary(
            p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(), StringComparer.Ordinal);
        return new VaultSecretVersion(values, metadata.GetProperty("version").GetInt32(), Deleted: false, Destroyed: false);
    }

    /// <summary>Deletes every version of a secret and its metadata. Nothing there is fine.</summary>
    public async Task DestroyAllAsync(VaultSecretPath path, CancellationToken cancellationToken)
    {
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.Destroy, HttpMethod.Delete, path.MetadataUrl, null, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            using var _ = await VaultHttp.ReadSuccessAsync(response, $"destroying {path}", cancellationToken);
        }
    }

    /// <summary><c>sys/health</c>, with every status code read as an answer (as Vault's own client does).</summary>
    public async Task<VaultHealth> HealthAsync(CancellationToken cancellationToken)
    {
        using var response = await VaultHttp.SendAsync(http, metrics, VaultOperations.Health, HttpMethod.Get, "v1/sys/health", null, cancellationToken);
        using var document = await VaultHttp.ReadJsonAsync(response, cancellationToken);
        var root = document?.RootElement;
        bool Flag(string name) => root?.TryGetProperty(name, out var value) == true && value.ValueKind == JsonValueKind.True;
        return new VaultHealth((int)response.StatusCode, Flag("initialized"), Flag("sealed"), Flag("standby"),
            root?.TryGetProperty("version", out var version) == true ? version.GetString() : null);
    }
}

/// <summary>What both Vault clients share: sending, reading answers, and turning failures into <see cref="VaultException"/>.</summary>
internal static class VaultHttp
{
    /// <summary>Sends one call, counted in <c>agentidp.vault.requests</c> as <paramref name="operation"/> (<see cref="VaultOperations"/>).</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, AgentIdpMetrics metrics, string operation, HttpMethod method, string url,
        JsonNode? body, CancellationToken cancellationToken, string? token = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Options.Set(VaultRequestHeaders.ExplicitToken, token);
        }
        try
        {
            var response = await http.SendAsync(request, cancellationToken);
            metrics.VaultRequest(operation, response.IsSuccessStatusCode ? VaultResults.Success
                : response.StatusCode == HttpStatusCode.NotFound ? VaultResults.NotFound : VaultResults.Error);
            return response;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested &&
            e is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or TaskCanceledException)
        {
            metrics.VaultRequest(operation, VaultResults.Unavailable);
            throw new VaultException(e switch
            {
                BrokenCircuitException => "Vault is unavailable: too many recent failures, waiting before trying again.",
                TimeoutRejectedException or TaskCanceledException => "Vault did not answer in time.",
                _ => "Vault is unreachable.",
            }, null, null, e);
        }
    }

    public static async Task<JsonDocument?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The answer's body if it succeeded (a 204, or a 200 with warnings, gives an empty document); otherwise a <see cref="VaultException"/> with Vault's errors.</summary>
    public static async Task<JsonDocument> ReadSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var document = await ReadJsonAsync(response, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return document ?? JsonDocument.Parse("{}");
        }
        var errors = new List<string>();
        if (document?.RootElement.ValueKind == JsonValueKind.Object &&
            document.RootElement.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            errors.AddRange(list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
        }
        document?.Dispose();
        var status = (int)response.StatusCode;
        throw new VaultException($"Vault answered {status} {what}{(errors.Count > 0 ? ": " + string.Join("; ", errors) : ".")}", status, errors);
    }
}
