using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Keeps a local APIService (no service: served by this API server) for every group version the API serves, as
/// kube-apiserver's autoregister and crdregistration controllers do: the built-in ones labelled
/// <c>kube-aggregator.kubernetes.io/automanaged: onstart</c> with kube-apiserver's priorities, each served version of a
/// CustomResourceDefinition labelled <c>true</c> (group priority 1000, version priority 100). An automanaged APIService
/// whose group version is no longer served is deleted; APIServices without the label are the user's and left alone.
/// An onstart APIService the user turned into a service-backed one is left to the user (the aggregator proxies to it);
/// deleted, the local one comes back. So <c>kubectl get apiservices</c> lists what it lists on Kubernetes (<c>v1.</c>, <c>v1.apps</c>, <c>v1beta1.metrics.k8s.io</c>, …).
/// </summary>
internal sealed class ApiServiceRegistration : ControllerActor
{
    public const string AutomanagedLabel = "kube-aggregator.kubernetes.io/automanaged";
    private const string ApiServices = "apiservices";
    private const string Definitions = "customresourcedefinitions";
    private static readonly ResourceKey Everything = new(ApiServices, null, "*");

    /// <summary>kube-apiserver's apiVersionPriorities (group priority minimum, version priority) for the group versions
    /// it can serve; metrics.k8s.io as metrics-server registers it. A version not listed here is not registered.</summary>
    internal static readonly IReadOnlyDictionary<(string Group, string Version), (int Group, int Version)> BuiltInPriorities =
        new Dictionary<(string, string), (int, int)>
        {
            [("", "v1")] = (18000, 1),
            [("apiregistration.k8s.io", "v1")] = (18000, 15),
            [("apps", "v1")] = (17800, 15),
            [("events.k8s.io", "v1")] = (17750, 15),
            [("authentication.k8s.io", "v1")] = (17700, 15),
            [("authorization.k8s.io", "v1")] = (17600, 15),
            [("autoscaling", "v1")] = (17500, 15),
            [("autoscaling", "v2")] = (17500, 30),
            [("batch", "v1")] = (17400, 15),
            [("certificates.k8s.io", "v1")] = (17300, 15),
            [("networking.k8s.io", "v1")] = (17200, 15),
            [("policy", "v1")] = (17100, 15),
            [("rbac.authorization.k8s.io", "v1")] = (17000, 15),
            [("storage.k8s.io", "v1")] = (16800, 15),
            [("apiextensions.k8s.io", "v1")] = (16700, 15),
            [("admissionregistration.k8s.io", "v1")] = (16700, 15),
            [("scheduling.k8s.io", "v1")] = (16600, 15),
            [("coordination.k8s.io", "v1")] = (16500, 15),
            [("node.k8s.io", "v1")] = (16300, 15),
            [("discovery.k8s.io", "v1")] = (16200, 15),
            [("flowcontrol.apiserver.k8s.io", "v1")] = (16100, 21),
            [("metrics.k8s.io", "v1beta1")] = (100, 100),
        };

    private readonly IResourceCatalog _catalog;

    public ApiServiceRegistration(IActorRef store, TimeSpan resync, IResourceCatalog catalog) : base(store, [ApiServices, Definitions], resync) =>
        _catalog = catalog;

    public static Props Props(IActorRef store, TimeSpan resync, IResourceCatalog catalog) =>
        Akka.Actor.Props.Create(() => new ApiServiceRegistration(store, resync, catalog));

    protected override IEnumerable<ResourceKey> AllKeys() => [Everything];

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current) =>
        Enqueue(Everything);

    /// <summary>The local APIServices there should be, by name (<c>version.group</c>).</summary>
    internal static Dictionary<string, V1APIService> Desired(Func<string, string, bool> serves, IEnumerable<V1CustomResourceDefinition> definitions)
    {
        var desired = new Dictionary<string, V1APIService>(StringComparer.Ordinal);
        foreach (var ((group, version), (groupPriority, versionPriority)) in BuiltInPriorities)
            if (serves(group, version)) desired[$"{version}.{group}"] = Local(group, version, groupPriority, versionPriority, "onstart");
        foreach (var definition in definitions)
        {
            if (definition.Metadata.DeletionTimestamp is not null || definition.Spec?.Group is not { Length: > 0 } group) continue;
            foreach (var version in definition.Spec.Versions ?? [])
                if (version.Served && !desired.ContainsKey($"{version.Name}.{group}"))
                    desired[$"{version.Name}.{group}"] = Local(group, version.Name, 1000, 100, "true");
        }
        return desired;
    }

    private static V1APIService Local(string group, string version, int groupPriority, int versionPriority, string managed) => new()
    {
        ApiVersion = "apiregistration.k8s.io/v1", Kind = "APIService",
        Metadata = new V1ObjectMeta { Name = $"{version}.{group}", Labels = new Dictionary<string, string> { [AutomanagedLabel] = managed } },
        Spec = new V1APIServiceSpec { Group = group, Version = version, GroupPriorityMinimum = groupPriority, VersionPriority = versionPriority },
    };

    protected override void Reconcile(ResourceKey key)
    {
        var desired = Desired(_catalog.Serves, Cache.List<V1CustomResourceDefinition>(Definitions));
        var existing = Cache.List<V1APIService>(ApiServices).ToDictionary(a => a.Metadata.Name, StringComparer.Ordinal);
        foreach (var (name, wanted) in desired)
        {
            if (!existing.TryGetValue(name, out var current))
            {
                Send(new CreateObject(ApiServices, wanted), key);
                continue;
            }
            if (current.Metadata.Labels is null || !current.Metadata.Labels.TryGetValue(AutomanagedLabel, out var managed)) continue; // the user's own
            // an onstart one the user pointed at a service (metrics-server's v1beta1.metrics.k8s.io applied over ours):
            // kube's autoregister syncs onstart APIServices only at start, so the extension server keeps it until deleted
            if (managed == "onstart" && current.Spec?.Service is not null) continue;
            var spec = current.Spec;
            if (managed == wanted.Metadata.Labels[AutomanagedLabel] && spec?.Service is null && spec?.Group == wanted.Spec.Group &&
                spec.Version == wanted.Spec.Version && spec.GroupPriorityMinimum == wanted.Spec.GroupPriorityMinimum &&
                spec.VersionPriority == wanted.Spec.VersionPriority && spec.CaBundle is not { Length: > 0 } && spec.InsecureSkipTLSVerify != true)
                continue;
            var updated = KubeObjects.Clone(current);
            updated.Spec = wanted.Spec;
            updated.Metadata.Labels![AutomanagedLabel] = wanted.Metadata.Labels[AutomanagedLabel];
            Send(new UpdateObject(ApiServices, updated, null), key);
        }
        foreach (var (name, current) in existing)
            if (!desired.ContainsKey(name) && current.Metadata.Labels?.ContainsKey(AutomanagedLabel) == true && current.Metadata.DeletionTimestamp is null)
                Send(new DeleteObject(new ResourceKey(ApiServices, null, name)), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // a conflict or AlreadyExists: the feed brings the newer state and enqueues again; anything else is tried again
        if (reply.Failed is { } failed && failed.Error.Code is not (409 or 404)) RequeueAfter(Everything, TimeSpan.FromSeconds(1));
        base.OnStoreReplied(reply);
    }
}
