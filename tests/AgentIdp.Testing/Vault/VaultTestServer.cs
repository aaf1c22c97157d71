using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentIdp.Testing.Vault;

/// <summary>
/// A HashiCorp Vault stand-in for the tests: real HTTP on 127.0.0.1 (Kestrel, a free port) that keeps the
/// contract of the Vault KV v2 HTTP API — KV v2 mounts per namespace (<c>secret</c> in the root
/// namespace from the start), tokens with policies and TTLs, Kubernetes and AppRole logins, sys/health,
/// and faults (down, sealed, forbidden, slow, answer lost) to switch on at will, for every request or only
/// for some (<see cref="FaultRules"/>). Times come from the given <see cref="TimeProvider"/>, so a
/// FakeTimeProvider drives versions' times and tokens' expiry.
/// </summary>
public sealed class VaultTestServer : IAsyncDisposable
{
    private const string ForbiddenMessage = "1 error occurred:\n\t* permission denied\n\n";

    private readonly VaultEngine _engine;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<VaultRecordedRequest> _requests = [];
    private readonly Lock _requestsGate = new();
    private WebApplication? _app;
    private int _fault;
    private IReadOnlyList<VaultFaultRule> _faultRules = [];
    private long _slowDelayTicks = TimeSpan.FromSeconds(30).Ticks;
    private int _disposed;

    private VaultTestServer(TimeProvider time)
    {
        _engine = new VaultEngine(time);
        Address = new Uri("http://127.0.0.1/");
    }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; }

    /// <summary>A token with the root policy: every capability, no expiry, not renewable.</summary>
    public string RootToken => _engine.RootToken;

    /// <summary>The fault every request meets from now on, before anything else is looked at.</summary>
    public VaultFault Fault
    {
        get => (VaultFault)Volatile.Read(ref _fault);
        set => Volatile.Write(ref _fault, (int)value);
    }

    /// <summary>
    /// Faults for some requests only: a request that a rule matches meets the first such rule's fault instead
    /// of <see cref="Fault"/>; any other request meets <see cref="Fault"/>. None unless set; set <c>[]</c> to clear.
    /// </summary>
    public IReadOnlyList<VaultFaultRule> FaultRules
    {
        get => Volatile.Read(ref _faultRules);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Volatile.Write(ref _faultRules, [.. value]);
        }
    }

    /// <summary>How long <see cref="VaultFault.Slow"/> holds each request (real time); 30 s unless set.</summary>
    public TimeSpan SlowDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _slowDelayTicks));
        set
        {
            if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The delay must not be negative.");
            }
            Interlocked.Exchange(ref _slowDelayTicks, value.Ticks);
        }
    }

    /// <summary>Every request served, in the order answered, as a snapshot.</summary>
    public IReadOnlyList<VaultRecordedRequest> Requests
    {
        get
        {
            lock (_requestsGate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<VaultTestServer> StartAsync(TimeProvider? time = null)
    {
        var server = new VaultTestServer(time ?? TimeProvider.System);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        server._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>
    /// Mounts a KV v2 engine at <paramref name="mount"/> (which may contain '/') in a namespace (null: root).
    /// Mounting a path again keeps its secrets and changes its max_versions and cas_required, as tuning its config would.
    /// </summary>
    public void MountKv(string mount, string? @namespace = null, int maxVersions = 10, bool casRequired = false) =>
        _engine.MountKv(mount, @namespace, maxVersions, casRequired);

    /// <summary>
    /// A service token in <paramref name="namespace"/> (null: root; it also works in the namespaces below)
    /// whose policy is <paramref name="rules"/>. No <paramref name="ttl"/> gives Vault's default 768h;
    /// <see cref="TimeSpan.Zero"/> a token that never expires. <paramref name="maxTtl"/> bounds its whole life.
    /// </summary>
    public string CreateToken(IEnumerable<VaultPolicyRule> rules, TimeSpan? ttl = null, bool renewable = true, TimeSpan? maxTtl = null, string? @namespace = null) =>
        _engine.CreateToken(rules, ttl, renewable, maxTtl, @namespace);

    /// <summary>AgentIdP's policy: create, read, update, delete on <c>{mount}/data/agentidp/*</c>; delete on <c>{mount}/metadata/agentidp/*</c>.</summary>
    public static IReadOnlyList<VaultPolicyRule> AgentIdpPolicy(string mount = "secret") =>
    [
        new($"{mount.Trim('/')}/data/agentidp/*", ["create", "read", "update", "delete"]),
        new($"{mount.Trim('/')}/metadata/agentidp/*", ["delete"]),
    ];

    /// <summary>
    /// A Kubernetes auth role: <c>POST /v1/auth/{mountPath}/login</c> with this role and exactly this JWT gets a
    /// new token with these rules and TTL, in the namespace the login was sent to.
    /// </summary>
    public void AddKubernetesRole(string role, string serviceAccountJwt, IEnumerable<VaultPolicyRule> rules, TimeSpan ttl, bool renewable = true, string mountPath = "kubernetes") =>
        _engine.AddLoginRole(AuthKind.Kubernetes, mountPath, role, serviceAccountJwt, rules, ttl, renewable);

    /// <summary>An AppRole: <c>POST /v1/auth/{mountPath}/login</c> with this role_id and secret_id gets a new token with these rules and TTL.</summary>
    public void AddAppRole(string roleId, string secretId, IEnumerable<VaultPolicyRule> rules, TimeSpan ttl, bool renewable = true, string mountPath = "approle") =>
        _engine.AddLoginRole(AuthKind.AppRole, mountPath, roleId, secretId, rules, ttl, renewable);

    public void RevokeToken(string token) => _engine.RevokeToken(token);

    /// <summary>
    /// What <c>vault kv get</c> would find at <paramref name="path"/> (without <c>data/</c>), or null when the
    /// key has no metadata. Throws when the mount does not exist.
    /// </summary>
    public VaultStoredSecret? Get(string mount, string path, string? @namespace = null) => _engine.Get(mount, path, @namespace);

    /// <summary>Writes a new version directly, without a token, CAS or policy.</summary>
    public void Put(string mount, string path, IReadOnlyDictionary<string, string> data, string? @namespace = null) =>
        _engine.Put(mount, path, data, @namespace);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var token = request.Headers["X-Vault-Token"].ToString();
        if (token.Length == 0)
        {
            var authorization = request.Headers.Authorization.ToString();
            token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : "";
        }
        var namespaceHeader = request.Headers["X-Vault-Namespace"];
        var path = request.Path.Value ?? "";
        var pending = new VaultRecordedRequest(
            request.Method,
            path,
            request.QueryString.HasValue && request.QueryString.Value!.Length > 1 ? request.QueryString.Value[1..] : null,
            token.Length == 0 ? null : token,
            namespaceHeader.Count == 0 ? null : namespaceHeader.ToString(),
            !string.IsNullOrEmpty(request.Headers["X-Vault-Request"].ToString()),
            0);

        var fault = FaultRules.FirstOrDefault(rule => rule.Matches(request.Method, path))?.Fault ?? Fault;
        if (fault == VaultFault.Down)
        {
            Record(pending, 0);
            context.Abort();
            return;
        }
        if (fault == VaultFault.Slow)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(SlowDelay, cancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Record(pending, 0);
                context.Abort();
                return;
            }
        }

        VaultReply reply;
        try
        {
            reply = await ReplyAsync(context, path, token, namespaceHeader.ToString(), fault).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            reply = VaultJson.Error(500, VaultJson.MultiError(exception.ToString()));
        }
        catch (OperationCanceledException)
        {
            Record(pending, 0);
            context.Abort();
            return;
        }
        if (fault == VaultFault.AnswerLost)
        {
            // Done, and the answer never reaches the client.
            Record(pending, 0);
            context.Abort();
            return;
        }

        // Recorded before the response goes out, so a client that has its answer finds the request in Requests.
        Record(pending, reply.Status);
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.Headers.CacheControl = "no-store";
        if (reply.Body is not null && !HttpMethods.IsHead(request.Method))
        {
            response.ContentType = "application/json";
            await response.WriteAsync(reply.Body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
        }
    }

    private async Task<VaultReply> ReplyAsync(HttpContext context, string path, string token, string namespaceHeader, VaultFault fault)
    {
        if (fault == VaultFault.Forbidden)
        {
            return VaultJson.Error(403, ForbiddenMessage);
        }
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return VaultJson.NotFound();
        }
        var relativePath = path["/v1/".Length..];
        var method = context.Request.Method.ToUpperInvariant();
        if (fault == VaultFault.Sealed && !VaultEngine.IsHealthPath(relativePath))
        {
            return VaultJson.Error(503, "Vault is sealed");
        }

        JsonElement? body = null;
        if (method is "POST" or "PUT" or "PATCH")
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            if (buffer.Length > 0 && !buffer.ToArray().All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                try
                {
                    using var document = JsonDocument.Parse(buffer.ToArray());
                    body = document.RootElement.Clone();
                }
                catch (JsonException exception)
                {
                    return VaultJson.BadRequest("failed to parse JSON input: " + exception.Message);
                }
            }
        }

        var vaultRequest = new VaultRequest(method, relativePath, context.Request.Query, token.Length == 0 ? null : token,
            VaultEngine.NormalizeNamespace(namespaceHeader), body);
        return fault == VaultFault.Sealed ? _engine.Health(vaultRequest, @sealed: true) : _engine.Handle(vaultRequest);
    }

    private void Record(VaultRecordedRequest pending, int status)
    {
        lock (_requestsGate)
        {
            _requests.Add(pending with { Status = status });
        }
    }
}
