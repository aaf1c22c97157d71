using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AgentIdp.Testing.Vault;

/// <summary>What the engine needs of one HTTP request: <paramref name="RelativePath"/> is the path after <c>/v1/</c>, <paramref name="Namespace"/> normalised.</summary>
internal sealed record VaultRequest(string Method, string RelativePath, IQueryCollection Query, string? Token, string Namespace, JsonElement? Body);

/// <summary>
/// Vault's state and semantics, free of HTTP plumbing: KV v2 mounts per namespace, tokens and their
/// policies, the Kubernetes and AppRole logins, sys/health. One lock guards all of it.
/// </summary>
internal sealed class VaultEngine
{
    private const int DefaultMaxVersions = 10;
    private static readonly TimeSpan DefaultTokenTtl = TimeSpan.FromHours(768);
    private static readonly string[] HealthCodes =
        ["activecode", "standbycode", "drsecondarycode", "haunhealthycode", "performancestandbycode", "removedcode", "sealedcode", "uninitcode"];

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Dictionary<string, KvMount>> _mounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TokenEntry> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AuthMount> _authMounts = new(StringComparer.Ordinal);
    private readonly string _clusterId = Guid.NewGuid().ToString();
    private int _policyCounter;

    public VaultEngine(TimeProvider time)
    {
        _time = time;
        var root = IssueToken([], ["root"], TimeSpan.Zero, renewable: false, maxTtl: null, "", "auth/token/root", "root", null, isRoot: true);
        RootToken = root.Id;
        MountKv("secret", null, DefaultMaxVersions, casRequired: false);
    }

    public string RootToken { get; }

    public static string NormalizeNamespace(string? @namespace) => (@namespace ?? "").Trim().Trim('/');

    // ---- seeding API -------------------------------------------------------------------------------

    public void MountKv(string mount, string? @namespace, int maxVersions, bool casRequired)
    {
        var path = NormalizeMount(mount);
        ArgumentOutOfRangeException.ThrowIfNegative(maxVersions);
        lock (_gate)
        {
            var ns = NormalizeNamespace(@namespace);
            if (!_mounts.TryGetValue(ns, out var mounts))
            {
                _mounts[ns] = mounts = new Dictionary<string, KvMount>(StringComparer.Ordinal);
            }
            if (mounts.TryGetValue(path, out var existing))
            {
                // Mounting again tunes the mount (like writing its config) and keeps its secrets.
                existing.MaxVersions = maxVersions;
                existing.CasRequired = casRequired;
            }
            else
            {
                mounts[path] = new KvMount(path) { MaxVersions = maxVersions, CasRequired = casRequired };
            }
        }
    }

    public string CreateToken(IEnumerable<VaultPolicyRule> rules, TimeSpan? ttl, bool renewable, TimeSpan? maxTtl, string? @namespace)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (ttl is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(ttl));
        }
        lock (_gate)
        {
            var policy = "policy-" + (++_policyCounter).ToString(CultureInfo.InvariantCulture);
            return IssueToken([.. rules], ["default", policy], ttl ?? DefaultTokenTtl, renewable, maxTtl,
                NormalizeNamespace(@namespace), "auth/token/create", "token", null, isRoot: false).Id;
        }
    }

    public void AddLoginRole(AuthKind kind, string mountPath, string name, string secret, IEnumerable<VaultPolicyRule> rules, TimeSpan ttl, bool renewable)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero);
        var path = NormalizeMount(mountPath);
        lock (_gate)
        {
            if (!_authMounts.TryGetValue(path, out var mount))
            {
                _authMounts[path] = mount = new AuthMount(kind);
            }
            else if (mount.Kind != kind)
            {
                throw new InvalidOperationException($"auth/{path} is already a {mount.Kind} mount.");
            }
            var policy = (kind == AuthKind.Kubernetes ? "kubernetes-" : "approle-") + name;
            mount.Roles[name] = new LoginRole(name, secret, [.. rules], policy, ttl, renewable);
        }
    }

    public void RevokeToken(string token)
    {
        lock (_gate)
        {
            if (_tokens.TryGetValue(token, out var entry))
            {
                entry.Revoked = true;
            }
        }
    }

    public VaultStoredSecret? Get(string mount, string path, string? @namespace)
    {
        lock (_gate)
        {
            var kv = RequireMount(mount, @namespace);
            if (!kv.Secrets.TryGetValue(path.Trim('/'), out var secret))
            {
                return null;
            }
            var versions = secret.Versions.ToDictionary(
                v => v.Key,
                v => new VaultStoredVersion(v.Value.DataJson is null ? null : StringValues(v.Value.DataJson), v.Value.CreatedTime, v.Value.DeletionTime, v.Value.Destroyed));
            return new VaultStoredSecret(secret.CurrentVersion, versions);
        }
    }

    public void Put(string mount, string path, IReadOnlyDictionary<string, string> data, string? @namespace)
    {
        ArgumentNullException.ThrowIfNull(data);
        var json = JsonSerializer.Serialize(data);
        lock (_gate)
        {
            var kv = RequireMount(mount, @namespace);
            var key = path.Trim('/');
            if (key.Length == 0)
            {
                throw new ArgumentException("A secret path is required.", nameof(path));
            }
            if (!kv.Secrets.TryGetValue(key, out var secret))
            {
                kv.Secrets[key] = secret = new KvSecret();
            }
            AddVersion(kv, secret, json, _time.GetUtcNow());
        }
    }

    // ---- HTTP --------------------------------------------------------------------------------------

    public static bool IsHealthPath(string relativePath) => relativePath == "sys/health";

    public VaultReply Handle(VaultRequest request)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var path = request.RelativePath;
            if (IsHealthPath(path))
            {
                return Health(request, @sealed: false);
            }
            if (path.StartsWith("auth/", StringComparison.Ordinal) && path.EndsWith("/login", StringComparison.Ordinal)
                && _authMounts.TryGetValue(path["auth/".Length..^"/login".Length], out var authMount))
            {
                return Login(request, authMount);
            }

            var token = Authenticate(request, now);
            if (token is null)
            {
                return VaultJson.PermissionDenied();
            }
            switch (path)
            {
                case "auth/token/lookup-self":
                    return request.Method is "GET" or "POST" ? LookupSelf(token, now) : VaultJson.UnsupportedOperation();
                case "auth/token/renew-self":
                    return request.Method is "POST" or "PUT" ? RenewSelf(request, token, now) : VaultJson.UnsupportedOperation();
                case "auth/token/revoke-self":
                    if (request.Method is not ("POST" or "PUT"))
                    {
                        return VaultJson.UnsupportedOperation();
                    }
                    token.Revoked = true;
                    return VaultJson.NoContent();
            }

            var (mount, rest) = FindMount(request.Namespace, path);
            if (mount is null)
            {
                return CheckMethod(request, token, path)
                    ?? VaultJson.Error(404, $"no handler for route \"{path}\". route entry not found.");
            }
            return Kv(request, token, mount, rest, now);
        }
    }

    /// <summary>sys/health: 200 active (or <c>activecode</c>), 503 sealed (or <c>sealedcode</c>); HEAD gets no body.</summary>
    public VaultReply Health(VaultRequest request, bool @sealed)
    {
        if (request.Method is not ("GET" or "HEAD"))
        {
            return VaultJson.UnsupportedOperation();
        }
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in HealthCodes)
        {
            var raw = request.Query[name].ToString();
            if (raw.Length == 0)
            {
                continue;
            }
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code) || code is < 100 or > 999)
            {
                return VaultJson.BadRequest($"invalid status code {raw} for {name}");
            }
            codes[name] = code;
        }
        var status = @sealed ? codes.GetValueOrDefault("sealedcode", 503) : codes.GetValueOrDefault("activecode", 200);
        if (request.Method == "HEAD")
        {
            return new VaultReply(status, null);
        }
        var body = new JsonObject
        {
            ["initialized"] = true,
            ["sealed"] = @sealed,
            ["standby"] = @sealed,
            ["performance_standby"] = false,
            ["replication_performance_mode"] = @sealed ? "unknown" : "disabled",
            ["replication_dr_mode"] = @sealed ? "unknown" : "disabled",
            ["server_time_utc"] = _time.GetUtcNow().ToUnixTimeSeconds(),
            ["version"] = "1.15.0-agentidp-test",
            ["enterprise"] = false,
        };
        if (!@sealed)
        {
            // A sealed Vault cannot read its cluster information, and leaves these out.
            body["cluster_name"] = "agentidp-test";
            body["cluster_id"] = _clusterId;
        }
        return new VaultReply(status, body);
    }

    // ---- tokens and logins -------------------------------------------------------------------------

    private TokenEntry IssueToken(IReadOnlyList<VaultPolicyRule> rules, IReadOnlyList<string> policies, TimeSpan ttl, bool renewable,
        TimeSpan? maxTtl, string @namespace, string path, string displayName, IReadOnlyDictionary<string, string>? metadata, bool isRoot)
    {
        var now = _time.GetUtcNow();
        var explicitMax = maxTtl is { } m && m > TimeSpan.Zero ? m : (TimeSpan?)null;
        if (explicitMax is { } max && (ttl == TimeSpan.Zero || ttl > max))
        {
            ttl = max;
        }
        var entry = new TokenEntry(NewId("hvs.", 24), NewId("", 24), @namespace, rules, policies, isRoot, path, displayName, metadata)
        {
            CreationTtl = ttl,
            ExplicitMaxTtl = explicitMax,
            Renewable = renewable,
            IssueTime = now,
            ExpireTime = ttl > TimeSpan.Zero ? now + ttl : null,
        };
        _tokens[entry.Id] = entry;
        return entry;
    }

    private TokenEntry? Authenticate(VaultRequest request, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(request.Token) || !_tokens.TryGetValue(request.Token, out var token) || token.Revoked)
        {
            return null;
        }
        if (token.ExpireTime is { } expire && now >= expire)
        {
            return null;
        }
        // A token works in its own namespace and in the namespaces below it.
        return token.Namespace.Length == 0 || request.Namespace == token.Namespace
            || request.Namespace.StartsWith(token.Namespace + "/", StringComparison.Ordinal)
            ? token
            : null;
    }

    private static bool Allowed(TokenEntry token, VaultRequest request, string path, string capability)
    {
        if (token.IsRoot)
        {
            return true;
        }
        // Policy paths are relative to the token's namespace.
        var relative = request.Namespace.Length == token.Namespace.Length
            ? ""
            : request.Namespace[(token.Namespace.Length == 0 ? 0 : token.Namespace.Length + 1)..] + "/";
        return VaultAcl.Allows(token.Rules, relative + path, capability);
    }

    private VaultReply LookupSelf(TokenEntry token, DateTimeOffset now)
    {
        var data = new JsonObject
        {
            ["accessor"] = token.Accessor,
            ["creation_time"] = token.IssueTime.ToUnixTimeSeconds(),
            ["creation_ttl"] = VaultJson.Seconds(token.CreationTtl),
            ["display_name"] = token.DisplayName,
            ["entity_id"] = "",
            ["expire_time"] = token.ExpireTime is { } expire ? VaultJson.Time(expire) : null,
            ["explicit_max_ttl"] = token.ExplicitMaxTtl is { } max ? VaultJson.Seconds(max) : 0,
            ["id"] = token.Id,
            ["issue_time"] = VaultJson.Time(token.IssueTime),
            ["meta"] = Metadata(token.Metadata),
            ["num_uses"] = 0,
            ["orphan"] = true,
            ["path"] = token.Path,
            ["policies"] = VaultJson.Strings(token.Policies),
            ["renewable"] = token.Renewable,
            ["ttl"] = token.ExpireTime is { } e ? VaultJson.Seconds(e - now) : 0,
            ["type"] = "service",
        };
        if (token.LastRenewal is { } renewed)
        {
            data["last_renewal_time"] = renewed.ToUnixTimeSeconds();
        }
        if (token.Namespace.Length > 0)
        {
            data["namespace_path"] = token.Namespace + "/";
        }
        return VaultJson.Ok(data);
    }

    private VaultReply RenewSelf(VaultRequest request, TokenEntry token, DateTimeOffset now)
    {
        var increment = TimeSpan.Zero;
        if (request.Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("increment", out var raw)
            && !VaultJson.TryParseDuration(raw, out increment))
        {
            return VaultJson.BadRequest($"error converting input {raw.GetRawText()} for field \"increment\"");
        }
        if (!token.Renewable || token.ExpireTime is null)
        {
            return VaultJson.BadRequest("lease is not renewable");
        }
        // The token's own TTL bounds a renewal, as a role's or mount's max TTL does in Vault.
        var ttl = increment > TimeSpan.Zero && increment < token.CreationTtl ? increment : token.CreationTtl;
        var expire = now + ttl;
        if (token.ExplicitMaxTtl is { } max && expire > token.IssueTime + max)
        {
            expire = token.IssueTime + max;
        }
        token.ExpireTime = expire;
        token.LastRenewal = now;
        return VaultJson.Ok(null, Auth(token, now));
    }

    private VaultReply Login(VaultRequest request, AuthMount mount)
    {
        if (request.Method is not ("POST" or "PUT"))
        {
            return VaultJson.UnsupportedOperation();
        }
        var body = request.Body is { ValueKind: JsonValueKind.Object } b ? b : default;
        string? Field(string name) =>
            body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;

        LoginRole? role;
        Dictionary<string, string> metadata;
        if (mount.Kind == AuthKind.Kubernetes)
        {
            var roleName = Field("role");
            var jwt = Field("jwt");
            if (string.IsNullOrEmpty(roleName))
            {
                return VaultJson.BadRequest("missing role");
            }
            if (string.IsNullOrEmpty(jwt))
            {
                return VaultJson.BadRequest("missing jwt");
            }
            if (!mount.Roles.TryGetValue(roleName, out role))
            {
                return VaultJson.BadRequest("invalid role name");
            }
            if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(jwt), System.Text.Encoding.UTF8.GetBytes(role.Secret)))
            {
                return VaultJson.PermissionDenied();
            }
            metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["role"] = role.Name };
        }
        else
        {
            var roleId = Field("role_id");
            var secretId = Field("secret_id");
            if (string.IsNullOrEmpty(roleId))
            {
                return VaultJson.BadRequest("missing role_id");
            }
            if (string.IsNullOrEmpty(secretId))
            {
                return VaultJson.BadRequest("missing secret_id");
            }
            if (!mount.Roles.TryGetValue(roleId, out role)
                || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(secretId), System.Text.Encoding.UTF8.GetBytes(role.Secret)))
            {
                return VaultJson.BadRequest("invalid role or secret ID");
            }
            metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["role_name"] = role.Name };
        }

        var token = IssueToken(role.Rules, ["default", role.PolicyName], role.Ttl, role.Renewable, null, request.Namespace,
            request.RelativePath, mount.Kind == AuthKind.Kubernetes ? "kubernetes-" + role.Name : "approle", metadata, isRoot: false);
        return VaultJson.Ok(null, Auth(token, _time.GetUtcNow()));
    }

    private static JsonObject Auth(TokenEntry token, DateTimeOffset now) => new()
    {
        ["client_token"] = token.Id,
        ["accessor"] = token.Accessor,
        ["policies"] = VaultJson.Strings(token.Policies),
        ["token_policies"] = VaultJson.Strings(token.Policies),
        ["metadata"] = Metadata(token.Metadata),
        ["lease_duration"] = token.ExpireTime is { } expire ? VaultJson.Seconds(expire - now) : 0,
        ["renewable"] = token.Renewable,
        ["entity_id"] = "",
        ["token_type"] = "service",
        ["orphan"] = true,
        ["mfa_requirement"] = null,
        ["num_uses"] = 0,
    };

    private static JsonObject? Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return null;
        }
        var result = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            result[key] = value;
        }
        return result;
    }

    // ---- KV v2 -------------------------------------------------------------------------------------

    private (KvMount? Mount, string Remainder) FindMount(string @namespace, string path)
    {
        if (!_mounts.TryGetValue(@namespace, out var mounts))
        {
            return (null, "");
        }
        KvMount? best = null;
        foreach (var mount in mounts.Values)
        {
            if ((path == mount.Path || path.StartsWith(mount.Path + "/", StringComparison.Ordinal))
                && (best is null || mount.Path.Length > best.Path.Length))
            {
                best = mount;
            }
        }
        return best is null ? (null, "") : (best, path.Length > best.Path.Length ? path[(best.Path.Length + 1)..] : "");
    }

    private static bool IsList(VaultRequest request) =>
        request.Method == "LIST"
        || (request.Method == "GET" && request.Query["list"].ToString() is var list && (list == "true" || list == "1"));

    /// <summary>The capability Vault checks for a method (writes count as update), or null for a method Vault does not serve.</summary>
    private static string? MethodCapability(VaultRequest request) => request.Method switch
    {
        _ when IsList(request) => "list",
        "GET" or "HEAD" => "read",
        "POST" or "PUT" => "update",
        "DELETE" => "delete",
        "PATCH" => "patch",
        _ => null,
    };

    /// <summary>The reply for a request this path does not serve: 405 for an unknown method, 403 without the method's capability, else null.</summary>
    private static VaultReply? CheckMethod(VaultRequest request, TokenEntry token, string aclPath)
    {
        var capability = MethodCapability(request);
        if (capability is null)
        {
            return VaultJson.Error(405);
        }
        return Allowed(token, request, aclPath, capability) ? null : VaultJson.PermissionDenied();
    }

    private VaultReply Kv(VaultRequest request, TokenEntry token, KvMount mount, string rest, DateTimeOffset now)
    {
        var aclPath = request.RelativePath;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var operation = slash < 0 ? rest : rest[..slash];
        var key = slash < 0 ? null : rest[(slash + 1)..];
        var list = IsList(request);
        var method = request.Method;

        VaultReply Require(string capability, Func<VaultReply> then) =>
            Allowed(token, request, aclPath, capability) ? then() : VaultJson.PermissionDenied();
        VaultReply Unsupported() => CheckMethod(request, token, aclPath) ?? VaultJson.UnsupportedOperation();

        switch (operation)
        {
            case "data" when !string.IsNullOrEmpty(key):
                return method switch
                {
                    "GET" when !list => Require("read", () => ReadData(request, mount, key, now)),
                    "POST" or "PUT" => WriteData(request, token, mount, key, now),
                    "DELETE" => Require("delete", () => SoftDelete(mount, key, now)),
                    _ => Unsupported(),
                };
            case "metadata" when key is not null:
                if (list)
                {
                    return Require("list", () => List(mount, key));
                }
                return method switch
                {
                    "GET" when key.Length > 0 => Require("read", () => ReadMetadata(mount, key)),
                    "DELETE" when key.Length > 0 => Require("delete", () =>
                    {
                        mount.Secrets.Remove(key);
                        return VaultJson.NoContent();
                    }),
                    _ => Unsupported(),
                };
            case "delete" or "undelete" or "destroy" when !string.IsNullOrEmpty(key):
                return method is "POST" or "PUT"
                    ? Require("update", () => ChangeVersions(request, mount, key, operation, now))
                    : Unsupported();
            case "config" when key is null:
                return method switch
                {
                    "GET" when !list => Require("read", () => VaultJson.Ok(new JsonObject
                    {
                        ["cas_required"] = mount.CasRequired,
                        ["delete_version_after"] = "0s",
                        ["max_versions"] = mount.MaxVersions,
                    })),
                    "POST" or "PUT" => Require("update", () => WriteConfig(request, mount)),
                    _ => Unsupported(),
                };
            default:
                return CheckMethod(request, token, aclPath) ?? VaultJson.Error(404,
                    "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. "
                    + "If using the Vault CLI, use 'vault kv get' for this operation.");
        }
    }

    private VaultReply WriteData(VaultRequest request, TokenEntry token, KvMount mount, string key, DateTimeOffset now)
    {
        mount.Secrets.TryGetValue(key, out var secret);
        // Vault's existence check: a key whose metadata exists needs update, a new one create.
        if (!Allowed(token, request, request.RelativePath, secret is null ? "create" : "update"))
        {
            return VaultJson.PermissionDenied();
        }
        if (request.Body is not { ValueKind: JsonValueKind.Object } body
            || !body.TryGetProperty("data", out var data) || data.ValueKind == JsonValueKind.Null)
        {
            return VaultJson.BadRequest("no data provided");
        }
        if (data.ValueKind != JsonValueKind.Object)
        {
            return VaultJson.BadRequest($"error converting input {data.GetRawText()} for field \"data\": expected a map, got {data.ValueKind.ToString().ToLowerInvariant()}");
        }

        long? cas = null;
        if (body.TryGetProperty("options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                return VaultJson.BadRequest($"error converting input {options.GetRawText()} for field \"options\": expected a map");
            }
            if (options.TryGetProperty("cas", out var casValue) && casValue.ValueKind != JsonValueKind.Null)
            {
                if (!TryParseCas(casValue, out var parsed))
                {
                    return VaultJson.BadRequest("error parsing check-and-set parameter");
                }
                cas = parsed;
            }
        }
        var current = secret?.CurrentVersion ?? 0;
        if (cas is { } expected)
        {
            if (expected != current)
            {
                return VaultJson.BadRequest("check-and-set parameter did not match the current version");
            }
        }
        else if (mount.CasRequired)
        {
            return VaultJson.BadRequest("check-and-set parameter required for this call");
        }

        if (secret is null)
        {
            mount.Secrets[key] = secret = new KvSecret();
        }
        var version = AddVersion(mount, secret, data.GetRawText(), now);
        return VaultJson.Ok(VersionMetadata(secret.CurrentVersion, version));
    }

    private static bool TryParseCas(JsonElement value, out long cas)
    {
        cas = 0;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetInt64(out cas):
                return true;
            case JsonValueKind.Number when value.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < long.MaxValue:
                cas = (long)d;
                return true;
            case JsonValueKind.String:
                return long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out cas);
            case JsonValueKind.True or JsonValueKind.False:
                cas = value.GetBoolean() ? 1 : 0;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Adds the next version and prunes the oldest past max_versions, exactly as the KV v2 plugin's AddVersion does.</summary>
    private static KvVersion AddVersion(KvMount mount, KvSecret secret, string dataJson, DateTimeOffset now)
    {
        var version = new KvVersion(dataJson, now);
        secret.CurrentVersion++;
        secret.Versions[secret.CurrentVersion] = version;
        secret.CreatedTime ??= now;
        secret.UpdatedTime = now;
        var maxVersions = mount.MaxVersions > 0 ? mount.MaxVersions : DefaultMaxVersions;
        if (secret.CurrentVersion - secret.OldestVersion >= maxVersions)
        {
            var versionToDelete = secret.CurrentVersion - maxVersions;
            for (var i = secret.OldestVersion; i <= versionToDelete; i++)
            {
                secret.Versions.Remove(i);
            }
            secret.OldestVersion = versionToDelete + 1;
        }
        return version;
    }

    private static VaultReply ReadData(VaultRequest request, KvMount mount, string key, DateTimeOffset now)
    {
        var requested = 0L;
        var raw = request.Query["version"].ToString();
        if (raw.Length > 0 && !long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out requested))
        {
            return VaultJson.BadRequest($"error converting input {raw} for field \"version\"");
        }
        if (!mount.Secrets.TryGetValue(key, out var secret))
        {
            return VaultJson.NotFound();
        }
        var number = requested == 0 ? secret.CurrentVersion : requested;
        if (number is <= 0 or > int.MaxValue || !secret.Versions.TryGetValue((int)number, out var version))
        {
            return VaultJson.NotFound();
        }
        var metadata = VersionMetadata((int)number, version);
        if ((version.DeletionTime is { } deleted && deleted <= now) || version.Destroyed)
        {
            // Deleted or destroyed: a 404 that still carries the version's metadata.
            return new VaultReply(404, VaultJson.Envelope(new JsonObject { ["data"] = null, ["metadata"] = metadata }));
        }
        return VaultJson.Ok(new JsonObject { ["data"] = JsonNode.Parse(version.DataJson!), ["metadata"] = metadata });
    }

    private static JsonObject VersionMetadata(int number, KvVersion version) => new()
    {
        ["created_time"] = VaultJson.Time(version.CreatedTime),
        ["custom_metadata"] = null,
        ["deletion_time"] = version.DeletionTime is { } deleted ? VaultJson.Time(deleted) : "",
        ["destroyed"] = version.Destroyed,
        ["version"] = number,
    };

    private static VaultReply SoftDelete(KvMount mount, string key, DateTimeOffset now)
    {
        if (mount.Secrets.TryGetValue(key, out var secret)
            && secret.Versions.TryGetValue(secret.CurrentVersion, out var latest)
            && !latest.Destroyed
            && (latest.DeletionTime is null || latest.DeletionTime > now))
        {
            latest.DeletionTime = now;
            secret.UpdatedTime = now;
        }
        return VaultJson.NoContent();
    }

    private static VaultReply ChangeVersions(VaultRequest request, KvMount mount, string key, string operation, DateTimeOffset now)
    {
        var versions = new List<int>();
        if (request.Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("versions", out var raw))
        {
            IEnumerable<JsonElement> items = raw.ValueKind == JsonValueKind.Array ? raw.EnumerateArray() : [raw];
            foreach (var item in items)
            {
                if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var n))
                {
                    versions.Add(n);
                }
                else if (item.ValueKind == JsonValueKind.String)
                {
                    foreach (var part in item.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out n))
                        {
                            return VaultJson.BadRequest($"error converting input {item.GetRawText()} for field \"versions\"");
                        }
                        versions.Add(n);
                    }
                }
                else
                {
                    return VaultJson.BadRequest($"error converting input {item.GetRawText()} for field \"versions\"");
                }
            }
        }
        if (versions.Count == 0)
        {
            return VaultJson.BadRequest("no version number provided");
        }
        if (!mount.Secrets.TryGetValue(key, out var secret))
        {
            return VaultJson.NoContent();
        }
        foreach (var number in versions)
        {
            if (!secret.Versions.TryGetValue(number, out var version))
            {
                continue;
            }
            switch (operation)
            {
                case "delete" when version.DeletionTime is null || version.DeletionTime > now:
                    version.DeletionTime = now;
                    break;
                case "undelete" when !version.Destroyed:
                    version.DeletionTime = null;
                    break;
                case "destroy":
                    version.Destroyed = true;
                    version.DataJson = null;
                    break;
            }
        }
        secret.UpdatedTime = now;
        return VaultJson.NoContent();
    }

    private static VaultReply ReadMetadata(KvMount mount, string key)
    {
        if (!mount.Secrets.TryGetValue(key, out var secret))
        {
            return VaultJson.NotFound();
        }
        var versions = new JsonObject();
        foreach (var (number, version) in secret.Versions)
        {
            versions[number.ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["created_time"] = VaultJson.Time(version.CreatedTime),
                ["deletion_time"] = version.DeletionTime is { } deleted ? VaultJson.Time(deleted) : "",
                ["destroyed"] = version.Destroyed,
            };
        }
        return VaultJson.Ok(new JsonObject
        {
            ["cas_required"] = false,
            ["created_time"] = secret.CreatedTime is { } created ? VaultJson.Time(created) : "",
            ["current_version"] = secret.CurrentVersion,
            ["custom_metadata"] = null,
            ["delete_version_after"] = "0s",
            ["max_versions"] = 0,
            ["oldest_version"] = secret.OldestVersion,
            ["updated_time"] = secret.UpdatedTime is { } updated ? VaultJson.Time(updated) : "",
            ["versions"] = versions,
        });
    }

    private static VaultReply List(KvMount mount, string key)
    {
        var prefix = key.Length == 0 || key.EndsWith('/') ? key : key + "/";
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in mount.Secrets.Keys)
        {
            if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal))
            {
                var remainder = name[prefix.Length..];
                var slash = remainder.IndexOf('/', StringComparison.Ordinal);
                keys.Add(slash < 0 ? remainder : remainder[..(slash + 1)]);
            }
        }
        return keys.Count == 0 ? VaultJson.NotFound() : VaultJson.Ok(new JsonObject { ["keys"] = VaultJson.Strings(keys) });
    }

    private static VaultReply WriteConfig(VaultRequest request, KvMount mount)
    {
        if (request.Body is { ValueKind: JsonValueKind.Object } body)
        {
            if (body.TryGetProperty("max_versions", out var max))
            {
                if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var n) || n < 0)
                {
                    return VaultJson.BadRequest($"error converting input {max.GetRawText()} for field \"max_versions\"");
                }
                mount.MaxVersions = n;
            }
            if (body.TryGetProperty("cas_required", out var cas))
            {
                if (cas.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return VaultJson.BadRequest($"error converting input {cas.GetRawText()} for field \"cas_required\"");
                }
                mount.CasRequired = cas.GetBoolean();
            }
        }
        return VaultJson.NoContent();
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private KvMount RequireMount(string mount, string? @namespace)
    {
        var ns = NormalizeNamespace(@namespace);
        var path = NormalizeMount(mount);
        return _mounts.TryGetValue(ns, out var mounts) && mounts.TryGetValue(path, out var kv)
            ? kv
            : throw new InvalidOperationException($"No KV v2 mount \"{path}\" in namespace \"{ns}\": call MountKv first.");
    }

    private static string NormalizeMount(string mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        var path = mount.Trim('/');
        if (path.Length == 0)
        {
            throw new ArgumentException("A mount path is required.", nameof(mount));
        }
        return path;
    }

    private static Dictionary<string, string> StringValues(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(),
            StringComparer.Ordinal);
    }

    private static string NewId(string prefix, int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return prefix + RandomNumberGenerator.GetString(alphabet, length);
    }

    private sealed class KvMount(string path)
    {
        public string Path { get; } = path;
        public int MaxVersions { get; set; }
        public bool CasRequired { get; set; }
        public Dictionary<string, KvSecret> Secrets { get; } = new(StringComparer.Ordinal);
    }

    private sealed class KvSecret
    {
        public int CurrentVersion { get; set; }
        public int OldestVersion { get; set; }
        public DateTimeOffset? CreatedTime { get; set; }
        public DateTimeOffset? UpdatedTime { get; set; }
        public SortedDictionary<int, KvVersion> Versions { get; } = [];
    }

    private sealed class KvVersion(string dataJson, DateTimeOffset createdTime)
    {
        public string? DataJson { get; set; } = dataJson;
        public DateTimeOffset CreatedTime { get; } = createdTime;
        public DateTimeOffset? DeletionTime { get; set; }
        public bool Destroyed { get; set; }
    }

    private sealed class TokenEntry(
        string id, string accessor, string @namespace, IReadOnlyList<VaultPolicyRule> rules, IReadOnlyList<string> policies,
        bool isRoot, string path, string displayName, IReadOnlyDictionary<string, string>? metadata)
    {
        public string Id { get; } = id;
        public string Accessor { get; } = accessor;
        public string Namespace { get; } = @namespace;
        public IReadOnlyList<VaultPolicyRule> Rules { get; } = rules;
        public IReadOnlyList<string> Policies { get; } = policies;
        public bool IsRoot { get; } = isRoot;
        public string Path { get; } = path;
        public string DisplayName { get; } = displayName;
        public IReadOnlyDictionary<string, string>? Metadata { get; } = metadata;
        public TimeSpan CreationTtl { get; init; }
        public TimeSpan? ExplicitMaxTtl { get; init; }
        public bool Renewable { get; init; }
        public DateTimeOffset IssueTime { get; init; }
        public DateTimeOffset? ExpireTime { get; set; }
        public DateTimeOffset? LastRenewal { get; set; }
        public bool Revoked { get; set; }
    }

    private sealed class AuthMount(AuthKind kind)
    {
        public AuthKind Kind { get; } = kind;
        public Dictionary<string, LoginRole> Roles { get; } = new(StringComparer.Ordinal);
    }

    private sealed record LoginRole(string Name, string Secret, IReadOnlyList<VaultPolicyRule> Rules, string PolicyName, TimeSpan Ttl, bool Renewable);
}

internal enum AuthKind
{
    Kubernetes,
    AppRole,
}
