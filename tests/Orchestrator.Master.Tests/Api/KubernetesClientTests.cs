using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>One HTTPS API server (real store, in-memory journal, a small watch window) for the client-library tests.</summary>
public sealed class KubernetesClientFixture : IAsyncLifetime
{
    public const int WatchWindow = 20;
    internal ApiTestServer Server { get; private set; } = null!;
    public Kubernetes Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ApiTestServer.StartAsync(https: true, new ObjectStoreSettings(WatchWindow: WatchWindow));
        // The kubeconfig path a user would take: CA data and token from the file, no custom validation.
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(Server.WriteKubeconfig());
        Client = new Kubernetes(config);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// The official KubernetesClient library as a real client of the API: typed CRUD, patches, optimistic concurrency,
/// list + watch resumed from a resourceVersion, and 410 Gone for a version older than the watch window.
/// </summary>
public sealed class KubernetesClientTests(KubernetesClientFixture fixture) : IClassFixture<KubernetesClientFixture>
{
    private Kubernetes Client => fixture.Client;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static V1Deployment Deployment(string name, int replicas = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "katacoda/docker-http-server:latest" }] },
            },
        },
    };

    private static V1ConfigMap ConfigMap(string name, string value = "1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["suite"] = "client" } },
        Data = new Dictionary<string, string> { ["value"] = value },
    };

    [Fact]
    public async Task Create_get_replace_patch_and_delete_a_deployment()
    {
        var name = Unique("crud");
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment(name), "default");
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.Equal(1, created.Metadata.Generation);

        var read = await Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);

        read.Spec.Replicas = 3;
        var replaced = await Client.AppsV1.ReplaceNamespacedDeploymentAsync(read, name, "default");
        Assert.Equal(3, replaced.Spec.Replicas);
        Assert.Equal(2, replaced.Metadata.Generation);
        Assert.True(long.Parse(replaced.Metadata.ResourceVersion) > long.Parse(read.Metadata.ResourceVersion));

        var merged = await Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"metadata":{"labels":{"tier":"front"}}}""", V1Patch.PatchType.MergePatch), name, "default");
        Assert.Equal("front", merged.Metadata.Labels["tier"]);

        var jsonPatched = await Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""[{"op":"replace","path":"/spec/replicas","value":2}]""", V1Patch.PatchType.JsonPatch), name, "default");
        Assert.Equal(2, jsonPatched.Spec.Replicas);

        var strategic = await Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(
            """{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}""",
            V1Patch.PatchType.StrategicMergePatch), name, "default");
        Assert.Equal(["web", "sidecar"], strategic.Spec.Template.Spec.Containers.Select(c => c.Name));

        await Client.AppsV1.DeleteNamespacedDeploymentAsync(name, "default");
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Replace_with_a_stale_resourceVersion_is_a_409_conflict()
    {
        var name = Unique("stale");
        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap(name), "default");
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(ConfigMap(name, "2").With(first.Metadata.ResourceVersion), name, "default");

        var stale = ConfigMap(name, "3").With(first.Metadata.ResourceVersion);
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReplaceNamespacedConfigMapAsync(stale, name, "default"));
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("the object has been modified", e.Response.Content);
        Assert.Equal("2", (await Client.CoreV1.ReadNamespacedConfigMapAsync(name, "default")).Data["value"]);
    }

    [Fact]
    public async Task Creating_twice_is_a_409_already_exists()
    {
        var name = Unique("twice");
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap(name), "default");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap(name), "default"));
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("AlreadyExists", e.Response.Content);
    }

    [Fact]
    public async Task A_watch_resumed_from_a_listed_resourceVersion_sees_exactly_the_later_changes()
    {
        var ns = Unique("watch");
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("before"), ns);
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns);
        Assert.Equal(["before"], list.Items.Select(c => c.Metadata.Name));

        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("after"), ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"data":{"value":"2"}}""", V1Patch.PatchType.MergePatch), "before", ns);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("after", ns);

        var seen = await Collect(list.Metadata.ResourceVersion, ns, 3);
        Assert.Equal(["ADDED after", "MODIFIED before", "DELETED after"], seen.Select(e => $"{e.Type.ToString().ToUpperInvariant()} {e.Object.Metadata.Name}"));
        var versions = seen.Select(e => long.Parse(e.Object.Metadata.ResourceVersion)).ToList();
        Assert.Equal(versions.Order(), versions);

        // Resume again from the middle: only what came after that version.
        var resumed = await Collect(seen[0].Object.Metadata.ResourceVersion, ns, 2);
        Assert.Equal(["MODIFIED before", "DELETED after"], resumed.Select(e => $"{e.Type.ToString().ToUpperInvariant()} {e.Object.Metadata.Name}"));
    }

    [Fact]
    public async Task A_watch_without_resourceVersion_starts_with_the_current_objects_then_follows()
    {
        var ns = Unique("live");
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("one"), ns);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<string>();
        var response = Client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(ns, watch: true, cancellationToken: cts.Token);
        await foreach (var (type, obj) in response.WatchAsync<V1ConfigMap, V1ConfigMapList>(cancellationToken: cts.Token))
        {
            events.Add($"{type} {obj.Metadata.Name}");
            if (events.Count == 1) await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("two"), ns, cancellationToken: cts.Token);
            if (events.Count == 2) break;
        }
        Assert.Equal(["Added one", "Added two"], events);
    }

    [Fact]
    public async Task A_watch_from_a_version_older_than_the_window_is_410_gone()
    {
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        var old = list.Metadata.ResourceVersion;
        for (var i = 0; i < KubernetesClientFixture.WatchWindow + 5; i++)
            await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap(Unique("fill")), "default");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var response = Client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", watch: true, resourceVersion: old,
            cancellationToken: cts.Token);
        var status = await GoneStatus(response, cts.Token);
        Assert.Equal(410, status.Code);
        Assert.Equal("Expired", status.Reason);
    }

    private static async Task<V1Status> GoneStatus(Task<HttpOperationResponse<V1ConfigMapList>> response, CancellationToken ct)
    {
        // The real API server answers 200 and then an ERROR event carrying the Status, which the library hands to
        // onError; a plain 410 response is also valid.
        V1Status? status = null;
        try
        {
            await foreach (var _ in response.WatchAsync<V1ConfigMap, V1ConfigMapList>(
                               e => status ??= (e as KubernetesException)?.Status, ct))
                throw new Xunit.Sdk.XunitException("expected an error, got an event");
        }
        catch (HttpOperationException e) { status = KubernetesJson.Deserialize<V1Status>(e.Response.Content); }
        return status ?? throw new Xunit.Sdk.XunitException("the watch ended without an error");
    }

    private async Task<List<(WatchEventType Type, V1ConfigMap Object)>> Collect(string resourceVersion, string ns, int count)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType, V1ConfigMap)>();
        var response = Client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(ns, watch: true, resourceVersion: resourceVersion,
            cancellationToken: cts.Token);
        await foreach (var e in response.WatchAsync<V1ConfigMap, V1ConfigMapList>(cancellationToken: cts.Token))
        {
            seen.Add(e);
            if (seen.Count == count) break;
        }
        return seen;
    }
}

internal static class ConfigMapVersions
{
    public static V1ConfigMap With(this V1ConfigMap map, string resourceVersion)
    {
        map.Metadata.ResourceVersion = resourceVersion;
        return map;
    }
}
