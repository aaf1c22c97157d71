using AgentIdp.Cli;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Vault;
using k8s.Models;

namespace AgentIdp.Deploy.Tests;

/// <summary>
/// deploy/k8s, as <c>kubectl kustomize</c> renders the base and each overlay, against what the code,
/// the Dockerfile and deploy/vault/setup.sh say: a name, port, path or role changed on one side only
/// fails here. (The services' answers on the probe paths are in PodTests.)
/// </summary>
public sealed class ManifestTests
{
    public static TheoryData<string> Kustomizations => new(Repository.Kustomizations);

    private static readonly IReadOnlyDictionary<string, ImageDefinition> Images = ImageDefinition.Read();

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Every_object_reads_as_its_Kubernetes_type_without_a_field_the_API_lacks(string kustomization)
    {
        var rendered = Rendered.Of(kustomization);

        Assert.NotEmpty(rendered.Objects);
        Assert.All(rendered.Objects, o => Assert.False(string.IsNullOrEmpty(o.Metadata?.Name), $"{kustomization}: a {o.Kind} has no name."));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Every_environment_variable_and_rendered_settings_file_is_a_setting_its_program_reads(string kustomization)
    {
        foreach (var workload in Rendered.Of(kustomization).Workloads)
        {
            var settings = Programs.Settings(workload.Program);
            var given = workload.Environment.Keys.Concat(workload.VaultFiles.Select(file => file.FileName));
            var unknown = given.Where(name => !settings.Contains(name)).ToList();
            Assert.True(unknown.Count == 0,
                $"{workload} gives {workload.Program} settings it does not read: {string.Join(", ", unknown)}. " +
                "A setting is a [ConfigurationKeyName] of an options class, SETTINGS_DIR, or one of ASP.NET Core's host settings.");
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Container_ports_are_the_ports_the_images_listen_on_and_every_reference_to_them_resolves(string kustomization)
    {
        var rendered = Rendered.Of(kustomization);
        foreach (var workload in rendered.Workloads.Where(w => w.Kind == "Deployment"))
        {
            Assert.True(Images.TryGetValue(workload.ImageTarget, out var image), $"{workload}: the Dockerfile has no target {workload.ImageTarget}.");
            var listening = int.Parse(image.Env["ASPNETCORE_HTTP_PORTS"]);
            var http = Assert.Single(workload.Container.Ports, p => p.Name == "http");
            Assert.True(http.ContainerPort == listening,
                $"{workload}: the container port http is {http.ContainerPort}, the image listens on {listening} (ASPNETCORE_HTTP_PORTS in the Dockerfile).");
            Assert.True(image.Exposed.Contains(listening), $"Dockerfile, target {image.Target}: EXPOSE does not name {listening}.");
            Assert.True(!workload.Environment.ContainsKey("ASPNETCORE_URLS") && !workload.Environment.ContainsKey("ASPNETCORE_HTTP_PORTS"),
                $"{workload}: the port is the image's (ASPNETCORE_HTTP_PORTS in the Dockerfile); the manifest must not set another.");

            foreach (var (kind, probe) in new[] { ("startup", workload.Container.StartupProbe), ("liveness", workload.Container.LivenessProbe), ("readiness", workload.Container.ReadinessProbe) })
            {
                Assert.True(probe?.HttpGet is not null, $"{workload}: no {kind} probe over HTTP.");
                Assert.True(workload.PortNumber(probe.HttpGet.Port) == listening, $"{workload}: the {kind} probe's port {probe.HttpGet.Port.Value} is not the port it listens on.");
            }

            // Readiness waits for the slowest check: PostgreSQL's 3 seconds, and with VAULT_ADDR, Vault's VAULT_TIMEOUT.
            var environment = workload.Environment;
            var slowest = environment.ContainsKey("VAULT_ADDR")
                ? Math.Max(3, environment.TryGetValue("VAULT_TIMEOUT", out var timeout) ? int.Parse(timeout!) : new VaultOptions().TimeoutSeconds)
                : 3;
            Assert.True(workload.Container.ReadinessProbe.TimeoutSeconds > slowest,
                $"{workload}: the readiness probe gives up after {workload.Container.ReadinessProbe.TimeoutSeconds} s, before its slowest check ({slowest} s) has answered.");
        }

        foreach (var service in rendered.All<V1Service>())
        {
            var backend = Assert.Single(rendered.Workloads, w => w.Selected(service.Spec.Selector));
            foreach (var port in service.Spec.Ports)
            {
                Assert.True(backend.PortNumber(port.TargetPort) is not null,
                    $"{kustomization}: Service {service.Metadata.Name} sends port {port.Port} to {port.TargetPort.Value}, which is no port of {backend}.");
            }
        }

        foreach (var policy in rendered.All<V1NetworkPolicy>())
        {
            var selected = rendered.Workloads.Where(w => w.Selected(policy.Spec.PodSelector.MatchLabels)).ToList();
            Assert.True(selected.Count > 0, $"{kustomization}: NetworkPolicy {policy.Metadata.Name} selects no pod.");
            foreach (var port in (policy.Spec.Ingress ?? []).SelectMany(rule => rule.Ports ?? []))
            {
                Assert.All(selected, w => Assert.True(w.PortNumber(port.Port) is not null,
                    $"{kustomization}: NetworkPolicy {policy.Metadata.Name} lets in port {port.Port.Value}, which is no port of {w}."));
            }
            // Egress to pods of this namespace: to ports they listen on.
            foreach (var rule in policy.Spec.Egress ?? [])
            {
                var peers = (rule.To ?? []).Where(peer => peer.PodSelector is not null && peer.NamespaceSelector is null && peer.IpBlock is null)
                    .SelectMany(peer => rendered.Workloads.Where(w => w.Selected(peer.PodSelector.MatchLabels))).ToList();
                foreach (var port in peers.Count > 0 ? rule.Ports ?? [] : [])
                {
                    Assert.All(peers, w => Assert.True(w.PortNumber(port.Port) is not null,
                        $"{kustomization}: NetworkPolicy {policy.Metadata.Name} lets out to port {port.Port.Value}, which is no port of {w}."));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Budgets_and_autoscalers_name_the_Deployments_there_are(string kustomization)
    {
        var rendered = Rendered.Of(kustomization);
        foreach (var budget in rendered.All<V1PodDisruptionBudget>())
        {
            Assert.Single(rendered.Workloads, w => w.Kind == "Deployment" && w.Selected(budget.Spec.Selector.MatchLabels));
        }
        foreach (var autoscaler in rendered.All<V2HorizontalPodAutoscaler>())
        {
            var target = rendered.All<V1Deployment>().SingleOrDefault(d => d.Kind == autoscaler.Spec.ScaleTargetRef.Kind && d.Metadata.Name == autoscaler.Spec.ScaleTargetRef.Name);
            Assert.True(target is not null, $"{kustomization}: HorizontalPodAutoscaler {autoscaler.Metadata.Name} scales {autoscaler.Spec.ScaleTargetRef.Name}, which is not rendered.");
            Assert.True(target.Spec.Replicas is null, $"{kustomization}: Deployment {target.Metadata.Name} sets replicas, which its autoscaler owns: each apply would reset them.");
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Vault_roles_service_accounts_and_namespace_are_those_setup_sh_binds(string kustomization)
    {
        var rendered = Rendered.Of(kustomization);
        var setup = VaultSetup.Read();
        Assert.True(rendered.All<V1Namespace>().Any(n => n.Metadata.Name == setup.Namespace),
            $"{kustomization}: setup.sh binds its roles in the namespace {setup.Namespace}, which is not rendered.");
        Assert.All(rendered.Objects.Where(o => o is not V1Namespace), o => Assert.True(o.Metadata.NamespaceProperty == setup.Namespace,
            $"{kustomization}: {o.Kind} {o.Metadata.Name} is in namespace {o.Metadata.NamespaceProperty}; setup.sh binds its roles in {setup.Namespace}."));
        Assert.All(setup.Roles.Values.SelectMany(policies => policies), policy => Assert.Contains(policy, setup.WrittenPolicies));

        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var workload in rendered.Workloads)
        {
            var environment = workload.Environment;
            var account = workload.Pod.ServiceAccountName;
            Assert.True(rendered.All<V1ServiceAccount>().Any(a => a.Metadata.Name == account), $"{workload}: its service account {account} is not rendered.");
            if (environment.TryGetValue("VAULT_K8S_ROLE", out var ownRole))
            {
                Assert.True(ownRole == account && setup.Roles.ContainsKey(ownRole!),
                    $"{workload}: VAULT_K8S_ROLE {ownRole} is not a role setup.sh binds to its service account {account}.");
                used.Add(ownRole!);
            }
            if (!workload.VaultInjected)
            {
                continue;
            }
            var role = workload.VaultRole;
            Assert.True(role is not null && setup.Roles.ContainsKey(role), $"{workload}: the Vault role {role} is not one setup.sh creates ({string.Join(", ", setup.Roles.Keys)}).");
            Assert.True(role == account, $"{workload}: its Vault role {role} is bound (setup.sh) to the service account {role}, not to its own, {account}.");
            used.Add(role);

            var folder = workload.VaultFolder;
            if (workload.VaultToken)
            {
                Assert.True(environment.GetValueOrDefault("VAULT_TOKEN_FILE") == folder + "/token",
                    $"{workload}: Vault Agent writes its token to {folder}/token; VAULT_TOKEN_FILE says {environment.GetValueOrDefault("VAULT_TOKEN_FILE")}.");
                Assert.Equal(VaultOptions.TokenMethod, environment.GetValueOrDefault("VAULT_AUTH_METHOD") ?? VaultOptions.TokenMethod);
            }
            else
            {
                Assert.False(environment.GetValueOrDefault("VAULT_TOKEN_FILE")?.StartsWith(folder + "/", StringComparison.Ordinal) == true,
                    $"{workload}: VAULT_TOKEN_FILE names Vault Agent's token, which agent-inject-token does not ask for.");
            }
            if (workload.Kind == "Job")
            {
                Assert.True(workload.VaultInitOnly, $"{workload}: a Job with a Vault Agent beside it never completes: set agent-pre-populate-only.");
            }
            if (workload.VaultFiles.Count > 0)
            {
                Assert.True(environment.GetValueOrDefault(SettingsFiles.DirectorySetting) == folder,
                    $"{workload}: Vault Agent renders settings into {folder}, but {SettingsFiles.DirectorySetting} is {environment.GetValueOrDefault(SettingsFiles.DirectorySetting)}.");
            }
            var mount = environment.GetValueOrDefault("VAULT_KV_MOUNT") ?? new VaultOptions().Mount;
            foreach (var file in workload.VaultFiles)
            {
                Assert.True(SettingsFiles.IsSettingName(file.FileName), $"{workload}: {file.FileName} is not named like a setting, so SETTINGS_DIR ignores it.");
                var parsed = file.Parsed;
                Assert.True(parsed is not null, $"{workload}: the template of {file.FileName} is not of the form {{{{- with secret \"PATH\" -}}}}{{{{ .Data.data.FIELD }}}}{{{{- end -}}}}.");
                Assert.True(parsed.Value.Path == file.SecretAnnotation, $"{workload}: {file.FileName}'s template reads {parsed.Value.Path}, its agent-inject-secret annotation names {file.SecretAnnotation}.");
                Assert.True(parsed.Value.Path.StartsWith(mount + "/data/", StringComparison.Ordinal),
                    $"{workload}: {file.FileName} is read from {parsed.Value.Path}, outside the KV v2 mount {mount} whose policies setup.sh writes.");
                Assert.True(parsed.Value.Field == file.FileName, $"{workload}: {file.FileName} is rendered from the field {parsed.Value.Field}; each settings secret holds a setting under its own name.");
            }
        }
        Assert.Equal(setup.Roles.Keys.Order(StringComparer.Ordinal), used.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Containers_run_as_the_images_user_unprivileged_on_a_read_only_root_with_a_writable_tmp(string kustomization)
    {
        foreach (var workload in Rendered.Of(kustomization).Workloads)
        {
            var (pod, container) = (workload.Pod.SecurityContext, workload.Container.SecurityContext);
            var image = Images[workload.ImageTarget];
            Assert.True((container?.RunAsNonRoot ?? pod?.RunAsNonRoot) == true, $"{workload}: runAsNonRoot is not set.");
            Assert.True((container?.RunAsUser ?? pod?.RunAsUser)?.ToString() == image.User, $"{workload}: it does not run as the image's user {image.User}.");
            Assert.True(container?.ReadOnlyRootFilesystem == true, $"{workload}: readOnlyRootFilesystem is not set.");
            Assert.True(container?.AllowPrivilegeEscalation == false, $"{workload}: allowPrivilegeEscalation is not false.");
            Assert.True(container?.Capabilities?.Drop?.Contains("ALL") == true, $"{workload}: capabilities do not drop ALL.");
            Assert.True((container?.SeccompProfile ?? pod?.SeccompProfile)?.Type == "RuntimeDefault", $"{workload}: no RuntimeDefault seccomp profile.");
            var tmp = Assert.Single(workload.Container.VolumeMounts ?? [], m => m.MountPath == "/tmp");
            Assert.True(workload.Pod.Volumes.Single(v => v.Name == tmp.Name).EmptyDir is not null, $"{workload}: /tmp is not an emptyDir.");
            if (workload.Annotations.TryGetValue("vault.hashicorp.com/agent-run-as-same-user", out var same) && same == "true")
            {
                Assert.True(container?.RunAsUser is not null, $"{workload}: agent-run-as-same-user needs runAsUser on the container itself.");
            }
            if (workload.Kind == "Deployment")
            {
                Assert.True(workload.Pod.TerminationGracePeriodSeconds is > 0, $"{workload}: no terminationGracePeriodSeconds.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_migration_Job_runs_agentidp_migrate_from_the_AuthServer_image(string kustomization)
    {
        var rendered = Rendered.Of(kustomization);
        var job = Assert.Single(rendered.Workloads, w => w.Kind == "Job");
        var authServer = Assert.Single(rendered.Workloads, w => w.Program == AgentIdpProgram.AuthServer);
        var image = Images[authServer.ImageTarget];

        Assert.Equal(AgentIdpProgram.Agentidp, job.Program);
        Assert.True(job.Container.Image == authServer.Container.Image, $"{job}: runs {job.Container.Image}, the AuthServer runs {authServer.Container.Image}: the migrations would not be the deployed version's.");
        Assert.Equal(["dotnet", $"{image.ProjectFolders["AuthServer"]}/{Programs.AuthServerAssembly}"], image.Entrypoint);
        Assert.Equal(["dotnet", $"{image.ProjectFolders["AgentIdp.Cli"]}/{Programs.CliAssembly}"], job.Container.Command);
        Assert.Equal(["migrate"], job.Container.Args);

        // agentidp knows the command the Job gives it.
        var output = new StringWriter();
        Assert.Equal(0, await AgentIdpCommand.RunAsync([.. job.Container.Args, "--help"], output: output, error: new StringWriter()));
        Assert.Contains("migrate", output.ToString());
    }
}
