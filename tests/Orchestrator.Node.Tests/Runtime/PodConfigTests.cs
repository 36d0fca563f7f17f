using System.Text;
using k8s.Models;
using Orchestrator.Node.Config;
using Orchestrator.Node.Runtime;
using Orchestrator.Node.Tests.Agent;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Tests.Runtime;

/// <summary>The ConfigMaps and Secrets of a test: what the master would have sent the node.</summary>
internal static class TestConfig
{
    public static ConfigDirectory With(IEnumerable<V1ConfigMap>? configMaps = null, IEnumerable<V1Secret>? secrets = null)
    {
        var directory = new ConfigDirectory();
        directory.Publish(new PodConfigChanged("node-a", 1, (configMaps ?? []).ToList(), (secrets ?? []).ToList()));
        return directory;
    }

    public static V1ConfigMap ConfigMap(string name, params (string Key, string Value)[] data) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Data = data.ToDictionary(d => d.Key, d => d.Value),
    };

    public static V1Secret Secret(string name, params (string Key, string Value)[] data) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Data = data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value)),
    };
}

public sealed class EnvironmentFromConfigTests
{
    private static V1EnvVar FromConfigMap(string name, string cm, string key, bool? optional = null) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = cm, Key = key, Optional = optional } } };

    private static V1EnvVar FromSecret(string name, string secret, string key, bool? optional = null) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key, Optional = optional } } };

    private static ResolvedEnvironment Resolve(V1Container container, ConfigDirectory configs, IReadOnlyDictionary<string, string>? services = null,
        V1Pod? pod = null) =>
        ContainerEnvironment.Resolve(pod ?? TestPods.Pod("web-1"), container,
            new EnvironmentSources("node-a", "10.0.0.1", "10.99.0.7", configs, services,
                new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4"), ["memory"] = new("8Gi") }));

    [Fact]
    public void Env_from_with_prefix_then_env_in_order_expanding_earlier_and_service_variables()
    {
        var configs = TestConfig.With(
            [TestConfig.ConfigMap("settings", ("mode", "fast"), ("level", "3"), ("1bad", "x"), ("bad key", "y"))],
            [TestConfig.Secret("db", ("password", "s3cret"))]);
        var container = new V1Container
        {
            Name = "app",
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = "settings" }, Prefix = "APP_" }],
            Env =
            [
                FromConfigMap("MODE", "settings", "mode"),
                FromSecret("PASSWORD", "db", "password"),
                new V1EnvVar { Name = "APP_level", Value = "override-$(MODE)" },
                new V1EnvVar { Name = "URL", Value = "http://$(WEB_SERVICE_HOST):$(PORT)/$(PASSWORD)" },
            ],
        };

        var env = Resolve(container, configs, new Dictionary<string, string> { ["WEB_SERVICE_HOST"] = "10.96.0.9", ["MODE"] = "shadowed" });

        Assert.Equal(["WEB_SERVICE_HOST=10.96.0.9", "APP_1bad=x", "APP_level=override-fast", "APP_mode=fast", "MODE=fast",
            "PASSWORD=s3cret", "URL=http://10.96.0.9:$(PORT)/s3cret"], env.AsDockerEnv());
        // "APP_1bad" is a name; "APP_bad key" is not: skipped with the kubelet's event
        Assert.Equal(["Keys [APP_bad key] from the EnvFrom configMap default/settings were skipped since they are considered invalid environment variable names."],
            env.InvalidNameWarnings);
    }

    [Fact]
    public void A_missing_config_map_secret_or_key_fails_with_the_kubelets_message_unless_optional()
    {
        var configs = TestConfig.With([TestConfig.ConfigMap("settings", ("mode", "fast"))], [TestConfig.Secret("db", ("user", "u"))]);
        string Failure(V1EnvVar env) =>
            Assert.Throws<ContainerConfigException>(() => Resolve(new V1Container { Name = "app", Env = [env] }, configs)).Message;

        Assert.Equal("configmap \"absent\" not found", Failure(FromConfigMap("A", "absent", "k")));
        Assert.Equal("couldn't find key k in ConfigMap default/settings", Failure(FromConfigMap("A", "settings", "k")));
        Assert.Equal("secret \"absent\" not found", Failure(FromSecret("A", "absent", "k")));
        Assert.Equal("couldn't find key password in Secret default/db", Failure(FromSecret("A", "db", "password")));
        Assert.Equal("configmap \"absent\" not found", Assert.Throws<ContainerConfigException>(() => Resolve(new V1Container
        {
            Name = "app", EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = "absent" } }],
        }, configs)).Message);

        var optional = Resolve(new V1Container
        {
            Name = "app",
            Env = [FromConfigMap("A", "absent", "k", optional: true), FromSecret("B", "db", "password", optional: true), FromSecret("C", "db", "user")],
            EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "absent", Optional = true } }],
        }, configs);
        Assert.Equal(["C=u"], optional.AsDockerEnv());
    }

    [Fact]
    public void Resource_fields_are_limits_or_requests_over_the_divisor_rounded_up_with_the_nodes_allocatable_as_the_default_limit()
    {
        V1EnvVar Resource(string name, string resource, string? divisor = null) => new()
        {
            Name = name,
            ValueFrom = new V1EnvVarSource { ResourceFieldRef = new V1ResourceFieldSelector { Resource = resource, Divisor = divisor is null ? null : new ResourceQuantity(divisor) } },
        };
        var container = new V1Container
        {
            Name = "app",
            Resources = new V1ResourceRequirements
            {
                Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("129Mi") },
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m") },
            },
            Env =
            [
                Resource("MEM_MI", "limits.memory", "1Mi"), Resource("MEM", "limits.memory"), Resource("CPU_LIMIT", "limits.cpu"),
                Resource("CPU_REQ_M", "requests.cpu", "1m"), Resource("CPU_REQ", "requests.cpu"), Resource("MEM_REQ", "requests.memory", "1Mi"),
            ],
        };

        Assert.Equal(["MEM_MI=129", "MEM=135266304", "CPU_LIMIT=4", "CPU_REQ_M=250", "CPU_REQ=1", "MEM_REQ=129"],
            Resolve(container, TestConfig.With()).AsDockerEnv());
    }

    [Fact]
    public void Downward_api_fields_for_env_include_the_pods_and_the_nodes_addresses()
    {
        var pod = TestPods.Pod("web-1");
        pod.Metadata.Annotations = new Dictionary<string, string> { ["team"] = "blue" };
        pod.Spec.ServiceAccountName = "builder";
        V1EnvVar Field(string name, string path) => new() { Name = name, ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = path } } };
        var container = new V1Container
        {
            Name = "app",
            Env = [Field("UID", "metadata.uid"), Field("TEAM", "metadata.annotations['team']"), Field("SA", "spec.serviceAccountName"),
                Field("HOST", "status.hostIP"), Field("IPS", "status.podIPs")],
        };

        Assert.Equal([$"UID={pod.Metadata.Uid}", "TEAM=blue", "SA=builder", "HOST=10.0.0.1", "IPS=10.99.0.7"],
            Resolve(container, TestConfig.With(), pod: pod).AsDockerEnv());
    }
}

public sealed class VolumeProjectionsTests
{
    private static V1Pod PodWith(params V1Volume[] volumes)
    {
        var pod = TestPods.Pod("web-1");
        pod.Metadata.Labels = new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front \"end\"" };
        pod.Spec.Volumes = volumes;
        return pod;
    }

    private static string Text(ProjectedFile file) => $"{file.Path}:{Convert.ToString(file.Mode, 8)}:{Encoding.UTF8.GetString(file.Content)}";

    [Fact]
    public void A_config_map_volume_holds_every_key_or_its_items_with_their_modes()
    {
        var configs = TestConfig.With([TestConfig.ConfigMap("settings", ("a", "1"), ("b", "2"))]);
        var all = VolumeProjections.For(PodWith(), new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } }, configs, null);
        Assert.False(all.Tmpfs);
        Assert.Equal(["a:644:1", "b:644:2"], all.Files.Select(Text));

        var items = VolumeProjections.For(PodWith(), new V1Volume
        {
            Name = "v",
            ConfigMap = new V1ConfigMapVolumeSource
            {
                Name = "settings", DefaultMode = 0x180, // 0600
                Items = [new V1KeyToPath { Key = "b", Path = "conf/b.txt" }, new V1KeyToPath { Key = "a", Path = "a.txt", Mode = 0x100 }],
            },
        }, configs, null);
        Assert.Equal(["a.txt:400:1", "conf/b.txt:600:2"], items.Files.Select(Text));
    }

    [Fact]
    public void Missing_sources_fail_the_mount_with_the_kubelets_message_unless_optional()
    {
        var configs = TestConfig.With([TestConfig.ConfigMap("settings", ("a", "1"))], [TestConfig.Secret("db", ("user", "u"))]);
        string Failure(V1Volume volume) => Assert.Throws<VolumeSetupException>(() => VolumeProjections.For(PodWith(), volume, configs, null)).Message;

        Assert.Equal("MountVolume.SetUp failed for volume \"v\" : configmap \"absent\" not found",
            Failure(new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "absent" } }));
        Assert.Equal("MountVolume.SetUp failed for volume \"v\" : configmap references non-existent config key: zz",
            Failure(new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings", Items = [new V1KeyToPath { Key = "zz", Path = "z" }] } }));
        Assert.Equal("MountVolume.SetUp failed for volume \"v\" : secret \"absent\" not found",
            Failure(new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "absent" } }));
        Assert.Equal("MountVolume.SetUp failed for volume \"v\" : references non-existent secret key: pw",
            Failure(new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "db", Items = [new V1KeyToPath { Key = "pw", Path = "pw" }] } }));
        Assert.Equal("MountVolume.SetUp failed for volume \"v\" : [configmap \"absent\" not found, secret \"gone\" not found]",
            Failure(new V1Volume
            {
                Name = "v",
                Projected = new V1ProjectedVolumeSource
                {
                    Sources = [new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "absent" } }, new V1VolumeProjection { Secret = new V1SecretProjection { Name = "gone" } }],
                },
            }));

        var optional = VolumeProjections.For(PodWith(), new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "absent", Optional = true } }, configs, null);
        Assert.True(optional.Tmpfs);
        Assert.Empty(optional.Files);
    }

    [Fact]
    public void Downward_api_and_projected_volumes_hold_labels_names_and_resources_in_kubernetes_format()
    {
        var configs = TestConfig.With([TestConfig.ConfigMap("settings", ("a", "1"))], [TestConfig.Secret("db", ("user", "u"))]);
        var pod = PodWith();
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") } };
        var downward = VolumeProjections.For(pod, new V1Volume
        {
            Name = "info",
            DownwardAPI = new V1DownwardAPIVolumeSource
            {
                Items =
                [
                    new V1DownwardAPIVolumeFile { Path = "labels", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels" } },
                    new V1DownwardAPIVolumeFile { Path = "name", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } },
                    new V1DownwardAPIVolumeFile
                    {
                        Path = "mem", ResourceFieldRef = new V1ResourceFieldSelector { ContainerName = pod.Spec.Containers[0].Name, Resource = "limits.memory", Divisor = new ResourceQuantity("1Mi") },
                    },
                ],
            },
        }, configs, null);
        Assert.Equal(["labels:644:app=\"web\"\ntier=\"front \\\"end\\\"\"", "mem:644:64", "name:644:web-1"], downward.Files.Select(Text));

        var projected = VolumeProjections.For(pod, new V1Volume
        {
            Name = "all",
            Projected = new V1ProjectedVolumeSource
            {
                DefaultMode = 0x1C0, // 0700
                Sources =
                [
                    new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "settings" } },
                    new V1VolumeProjection { Secret = new V1SecretProjection { Name = "db", Items = [new V1KeyToPath { Key = "user", Path = "creds/user" }] } },
                    new V1VolumeProjection { DownwardAPI = new V1DownwardAPIProjection { Items = [new V1DownwardAPIVolumeFile { Path = "ns", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } }] } },
                ],
            },
        }, configs, null);
        Assert.True(projected.Tmpfs);
        Assert.Equal(["a:700:1", "creds/user:700:u", "ns:700:default"], projected.Files.Select(Text));
        Assert.DoesNotContain("u\"", projected.ToString());
    }
}

public sealed class AtomicWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("atomic-writer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ProjectedFile File(string path, string content, int mode = 0x1A4) => new(path, Encoding.UTF8.GetBytes(content), mode);

    [Fact]
    public void Files_live_in_a_timestamped_directory_behind_the_data_link_and_user_visible_links()
    {
        Assert.True(AtomicWriter.Write(_dir, [File("a", "1"), File("conf/b", "2", 0x100)]));

        var data = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget!;
        Assert.Matches(@"^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$", data);
        Assert.Equal("..data/a", new FileInfo(Path.Combine(_dir, "a")).LinkTarget);
        Assert.Equal("..data/conf", new DirectoryInfo(Path.Combine(_dir, "conf")).LinkTarget);
        Assert.Equal("2", System.IO.File.ReadAllText(Path.Combine(_dir, "conf/b")));
        Assert.Equal(UnixFileMode.UserRead, System.IO.File.GetUnixFileMode(Path.Combine(_dir, data, "conf/b")));
        Assert.Equal(new[] { "..data", data, "a", "conf" }.Order(StringComparer.Ordinal), Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_update_swaps_the_data_link_and_removes_the_old_files_and_links_and_an_unchanged_payload_writes_nothing()
    {
        AtomicWriter.Write(_dir, [File("a", "1"), File("old", "x")]);
        var first = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget!;
        Assert.False(AtomicWriter.Write(_dir, [File("a", "1"), File("old", "x")]));
        Assert.Equal(first, new FileInfo(Path.Combine(_dir, "..data")).LinkTarget);

        Assert.True(AtomicWriter.Write(_dir, [File("a", "2"), File("new", "y")]));

        var second = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget!;
        Assert.NotEqual(first, second);
        Assert.Equal("2", System.IO.File.ReadAllText(Path.Combine(_dir, "a")));
        Assert.False(Path.Exists(Path.Combine(_dir, "old")));
        Assert.False(Directory.Exists(Path.Combine(_dir, first)));
        Assert.Equal(new[] { "..data", second, "a", "new" }.Order(StringComparer.Ordinal), Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_path_leaving_the_volume_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => AtomicWriter.Write(_dir, [File("../escape", "x")]));
}
