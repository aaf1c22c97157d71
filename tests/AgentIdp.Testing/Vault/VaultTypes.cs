namespace AgentIdp.Testing.Vault;

/// <summary>
/// A failure the test server shows on every request, health included, before anything else is looked at
/// (<see cref="VaultTestServer.Fault"/>), or only on the requests a <see cref="VaultFaultRule"/> picks.
/// </summary>
public enum VaultFault
{
    /// <summary>Normal service.</summary>
    None,

    /// <summary>The connection is aborted without a response: clients see a connection error.</summary>
    Down,

    /// <summary>503 <c>{"errors":["Vault is sealed"]}</c>; <c>sys/health</c> answers its sealed body.</summary>
    Sealed,

    /// <summary>403 <c>{"errors":["1 error occurred:\n\t* permission denied\n\n"]}</c>.</summary>
    Forbidden,

    /// <summary>Waits <see cref="VaultTestServer.SlowDelay"/> (real time), then answers normally.</summary>
    Slow,

    /// <summary>
    /// The request is carried out (a write lands), then the connection is aborted without a response: the
    /// client sees a connection error, as when an answer is lost on the way back. Recorded with status 0.
    /// </summary>
    AnswerLost,
}

/// <summary>
/// A fault for some requests only: those with this HTTP <paramref name="Method"/> (any case) whose URL path
/// starts with <paramref name="PathPrefix"/>, e.g. <c>("POST", "/v1/secret/data/", VaultFault.Forbidden)</c>
/// for KV v2 writes to the <c>secret</c> mount.
/// </summary>
public sealed record VaultFaultRule(string Method, string PathPrefix, VaultFault Fault)
{
    public bool Matches(string method, string path) =>
        string.Equals(Method, method, StringComparison.OrdinalIgnoreCase) && path.StartsWith(PathPrefix, StringComparison.Ordinal);
}

/// <summary>
/// One path rule of a Vault policy. <paramref name="Path"/> is a Vault policy glob: exact, or ending in
/// <c>*</c> (prefix); <c>+</c> matches one path segment. Capabilities are Vault's: create, read, update,
/// patch, delete, list, sudo, deny. When several rules match, the most specific wins, as in Vault.
/// </summary>
public sealed record VaultPolicyRule(string Path, IReadOnlyList<string> Capabilities);

/// <summary>One stored KV v2 version. <paramref name="Data"/> is null once destroyed; values that were not JSON strings are given as their JSON text.</summary>
public sealed record VaultStoredVersion(IReadOnlyDictionary<string, string>? Data, DateTimeOffset CreatedTime, DateTimeOffset? DeletionTime, bool Destroyed);

/// <summary>A KV v2 secret as <c>vault kv metadata get</c> would show it: its current version and the versions still kept.</summary>
public sealed record VaultStoredSecret(int CurrentVersion, IReadOnlyDictionary<int, VaultStoredVersion> Versions);

/// <summary>
/// One request the server served. <paramref name="Path"/> is the URL path (<c>/v1/secret/data/x</c>),
/// <paramref name="Query"/> the query string without its <c>?</c> (null when there is none),
/// <paramref name="Token"/> the token sent (X-Vault-Token, else Authorization: Bearer),
/// <paramref name="Namespace"/> the X-Vault-Namespace header as sent, <paramref name="Status"/> the
/// status answered (0 when the connection was aborted).
/// </summary>
public sealed record VaultRecordedRequest(string Method, string Path, string? Query, string? Token, string? Namespace, bool HasVaultRequestHeader, int Status);
