using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using AgentAdminApi;
using AgentIdp.Cli;
using AgentIdp.Core.Configuration;
using AuthServer;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;

namespace AgentIdp.Deploy.Tests;

/// <summary>
/// One kustomization as <c>kubectl kustomize</c> renders it, read into the Kubernetes API's own types
/// (KubernetesClient's models) strictly: a field the API does not have fails the read.
/// </summary>
internal sealed class Rendered
{
    private static readonly ConcurrentDictionary<string, Rendered> Cache = new();

    private Rendered(string kustomization, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects)
    {
        Kustomization = kustomization;
        Objects = objects;
    }

    public string Kustomization { get; }
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Objects { get; }

    public static Rendered Of(string kustomization) => Cache.GetOrAdd(kustomization, name =>
    {
        var yaml = Repository.Kustomize(name);
        List<object> objects;
        try
        {
            objects = KubernetesYaml.LoadAllFromString(yaml, strict: true);
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{name}: an object does not read as the Kubernetes API's type: {e.Message}", e);
        }
        return new Rendered(name, objects.Select(o => o as IKubernetesObject<V1ObjectMeta>
            ?? throw new InvalidOperationException($"{name}: {o.GetType().Name} is not a Kubernetes object with metadata.")).ToList());
    });

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    /// <summary>The Deployments and Jobs: what runs pods.</summary>
    public IReadOnlyList<Workload> Workloads =>
        All<V1Deployment>().Select(d => new Workload(this, d.Kind, d.Metadata.Name, d.Metadata.NamespaceProperty, d.Spec.Template))
            .Concat(All<V1Job>().Select(j => new Workload(this, j.Kind, j.Metadata.Name, j.Metadata.NamespaceProperty, j.Spec.Template)))
            .ToList();

    public Workload Workload(string name) => Workloads.Single(w => w.Name == name);
}

/// <summary>A pod template, its one container, and what the Vault Agent Injector makes of its annotations.</summary>
internal sealed partial record Workload(Rendered Render, string Kind, string Name, string Namespace, V1PodTemplateSpec Template)
{
    private const string Vault = "vault.hashicorp.com/";

    public override string ToString() => $"{Render.Kustomization}: {Kind} {Name}";

    public IDictionary<string, string> Annotations => Template.Metadata.Annotations ?? new Dictionary<string, string>();
    public IDictionary<string, string> Labels => Template.Metadata.Labels ?? new Dictionary<string, string>();
    public V1PodSpec Pod => Template.Spec;

    /// <summary>Each workload runs one program in one container (the Vault Agent's containers are added at admission).</summary>
    public V1Container Container => Assert.Single(Pod.Containers);

    /// <summary>The image's Dockerfile target: the last segment of its repository name.</summary>
    public string ImageTarget => Container.Image.Split('/')[^1].Split('@')[0].Split(':')[0];

    public AgentIdpProgram Program => ImageTarget switch
    {
        "authserver" when Container.Command?.Any(part => part.EndsWith(Programs.CliAssembly, StringComparison.Ordinal)) == true => AgentIdpProgram.Agentidp,
        "authserver" => AgentIdpProgram.AuthServer,
        "admin-api" => AgentIdpProgram.AdminApi,
        var other => throw new InvalidOperationException($"{this}: the image {Container.Image} is no Dockerfile target AgentIdP builds ({other})."),
    };

    /// <summary>The container's environment: its <c>env</c> and the ConfigMaps of its <c>envFrom</c>.</summary>
    public IReadOnlyDictionary<string, string?> Environment
    {
        get
        {
            var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var source in Container.EnvFrom ?? [])
            {
                Assert.True(source.ConfigMapRef is not null && source.SecretRef is null, $"{this}: envFrom takes ConfigMaps only here.");
                var map = Render.All<V1ConfigMap>().SingleOrDefault(m => m.Metadata.Name == source.ConfigMapRef.Name);
                Assert.True(map is not null, $"{this}: envFrom names the ConfigMap {source.ConfigMapRef.Name}, which is not rendered.");
                foreach (var (key, value) in map.Data ?? new Dictionary<string, string>())
                {
                    environment[source.Prefix + key] = value;
                }
            }
            foreach (var variable in Container.Env ?? [])
            {
                environment[variable.Name] = variable.Value;
            }
            return environment;
        }
    }

    public bool VaultInjected => Annotations.TryGetValue(Vault + "agent-inject", out var on) && on == "true";
    public string? VaultRole => Annotations.TryGetValue(Vault + "role", out var role) ? role : null;
    public bool VaultToken => Annotations.TryGetValue(Vault + "agent-inject-token", out var on) && on == "true";
    public bool VaultInitOnly => Annotations.TryGetValue(Vault + "agent-pre-populate-only", out var on) && on == "true";

    /// <summary>Where Vault Agent writes its files in the app's container.</summary>
    public string VaultFolder => Annotations.TryGetValue(Vault + "secret-volume-path", out var path) ? path : "/vault/secrets";

    /// <summary>The files Vault Agent renders: each <c>agent-inject-secret-NAME</c>, its file name and template.</summary>
    public IReadOnlyList<VaultFile> VaultFiles => Annotations.Keys
        .Where(key => key.StartsWith(Vault + "agent-inject-secret-", StringComparison.Ordinal))
        .Select(key => key[(Vault + "agent-inject-secret-").Length..])
        .Select(name => new VaultFile(
            Annotations.TryGetValue(Vault + "agent-inject-file-" + name, out var file) ? file : name.ToLowerInvariant(),
            Annotations[Vault + "agent-inject-secret-" + name],
            Annotations.TryGetValue(Vault + "agent-inject-template-" + name, out var template) ? template : ""))
        .ToList();

    /// <summary>A port given by name or number, as the number of one of the container's ports; null when it is none of them.</summary>
    public int? PortNumber(IntOrString port) =>
        int.TryParse(port.Value, out var number)
            ? Container.Ports?.Any(p => p.ContainerPort == number) == true ? number : null
            : Container.Ports?.SingleOrDefault(p => p.Name == port.Value)?.ContainerPort;

    public bool Selected(IDictionary<string, string>? selector) =>
        selector is { Count: > 0 } && selector.All(pair => Labels.TryGetValue(pair.Key, out var value) && value == pair.Value);
}

/// <summary>
/// A file Vault Agent renders, from a template of the one form the deploy tests render themselves:
/// <c>{{- with secret "PATH" -}}{{ .Data.data.FIELD }}{{- end -}}</c>.
/// </summary>
internal sealed partial record VaultFile(string FileName, string SecretAnnotation, string Template)
{
    public (string Path, string Field)? Parsed =>
        TemplateForm().Match(Template.Trim()) is { Success: true } match ? (match.Groups[1].Value, match.Groups[2].Value) : null;

    [GeneratedRegex(@"^\{\{-?\s*with secret ""([^""]+)""\s*-?\}\}\{\{\s*\.Data\.data\.(\w+)\s*\}\}\{\{-?\s*end\s*-?\}\}$")]
    private static partial Regex TemplateForm();
}

internal enum AgentIdpProgram
{
    AuthServer,
    AdminApi,
    Agentidp,
}

/// <summary>What each program reads, from the code itself.</summary>
internal static class Programs
{
    public static readonly string AuthServerAssembly = typeof(AuthServerApplication).Assembly.GetName().Name + ".dll";
    public static readonly string AdminApiAssembly = typeof(AgentAdminApiApplication).Assembly.GetName().Name + ".dll";
    public static readonly string CliAssembly = typeof(AgentIdpCommand).Assembly.GetName().Name + ".dll";

    /// <summary>Read by ASP.NET Core's host itself rather than by AgentIdP's options: the services' only other settings.</summary>
    public static readonly IReadOnlySet<string> HostSettings = new HashSet<string>(StringComparer.Ordinal)
    {
        "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_ENVIRONMENT", "ASPNETCORE_FORWARDEDHEADERS_ENABLED",
    };

    /// <summary>Every setting a program reads: the <c>[ConfigurationKeyName]</c> of every options property in its assemblies, SETTINGS_DIR, and for the services the host's.</summary>
    public static IReadOnlySet<string> Settings(AgentIdpProgram program)
    {
        var core = typeof(SettingsFiles).Assembly;
        var assemblies = program switch
        {
            AgentIdpProgram.AuthServer => new[] { core, typeof(AuthServerApplication).Assembly },
            AgentIdpProgram.AdminApi => [core, typeof(AgentAdminApiApplication).Assembly],
            _ => [core, typeof(AgentIdpCommand).Assembly],
        };
        var settings = assemblies.SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
            .Select(property => property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name)
            .OfType<string>()
            .Append(SettingsFiles.DirectorySetting)
            .ToHashSet(StringComparer.Ordinal);
        if (program != AgentIdpProgram.Agentidp)
        {
            settings.UnionWith(HostSettings);
        }
        return settings;
    }
}
