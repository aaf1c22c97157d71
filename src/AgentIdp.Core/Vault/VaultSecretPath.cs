namespace AgentIdp.Core.Vault;

/// <summary>
/// A KV v2 secret: its mount and its path inside the mount. Written as PostgreSQL keeps it in
/// <c>credentials.vault_path</c>: <c>{mount}/data/{path}</c>, for example <c>secret/data/agentidp/agents/…/credentials/…</c>.
/// </summary>
public sealed record VaultSecretPath(string Mount, string Path)
{
    private const string DataSegment = "/data/";

    public static VaultSecretPath ForCredential(string mount, Guid agentId, Guid credentialId) =>
        new(mount.Trim('/'), $"agentidp/agents/{agentId}/credentials/{credentialId}");

    /// <summary>Reads a stored path; the mount is everything before the last <c>/data/agentidp/</c>.</summary>
    public static VaultSecretPath Parse(string stored)
    {
        var split = stored.LastIndexOf(DataSegment + "agentidp/", StringComparison.Ordinal);
        if (split <= 0)
        {
            throw new FormatException("A stored Vault path has the form {mount}/data/agentidp/….");
        }
        return new VaultSecretPath(stored[..split], stored[(split + DataSegment.Length)..]);
    }

    public string DataUrl => $"v1/{Mount}/data/{Path}";

    public string MetadataUrl => $"v1/{Mount}/metadata/{Path}";

    public override string ToString() => $"{Mount}/data/{Path}";
}
