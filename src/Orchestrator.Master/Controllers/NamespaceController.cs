using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Removes the content of terminating namespaces (kube-controller-manager's namespace controller). A namespace being
/// deleted (deletionTimestamp set, phase Terminating) that still holds the <c>kubernetes</c> finalizer gets a
/// <see cref="NamespaceContentDeleter"/> pass: every object of every namespaced resource the store keeps — custom
/// resources included — is deleted. The pass's outcome becomes the namespace's deletion conditions
/// (NamespaceDeletionContentFailure, NamespaceContentRemaining, NamespaceFinalizersRemaining, …); while content
/// remains it passes again shortly; once a pass finds nothing and the conditions already say so, the finalizer is
/// removed through <c>namespaces/{name}/finalize</c>, and the store deletes the namespace when no finalizer is left.
/// </summary>
internal sealed class NamespaceController : ControllerActor
{
    public const string KubernetesFinalizer = "kubernetes";
    private const string Namespaces = "namespaces";
    private static readonly TimeSpan RemainingRequeue = TimeSpan.FromSeconds(1);

    private readonly IResourceCatalog _catalog;
    private readonly Dictionary<string, string> _passes = new(); // namespace → uid of the namespace its pass is for

    public NamespaceController(IActorRef store, TimeSpan resync, IResourceCatalog catalog) : base(store, [Namespaces], resync)
    {
        _catalog = catalog;
        Receive<NamespaceContentReport>(Reported);
    }

    public static Props Props(IActorRef store, TimeSpan resync, IResourceCatalog catalog) =>
        Akka.Actor.Props.Create(() => new NamespaceController(store, resync, catalog));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Namespaces);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (current?.Metadata.DeletionTimestamp is not null) Enqueue(ObjectCache.KeyOf(resource, current));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1Namespace ns || !Terminating(ns) || _passes.ContainsKey(ns.Metadata.Name)) return;
        _passes[ns.Metadata.Name] = ns.Metadata.Uid;
        var resources = _catalog.Stored
            .Where(r => r.Namespaced)
            .Select(r => (r.StoreName, $"{r.Resource}.{r.Group}"))
            .Distinct()
            .ToList();
        Context.ActorOf(NamespaceContentDeleter.Props(Store, ns.Metadata.Name, ns.Metadata.Uid, resources));
    }

    private static bool Terminating(V1Namespace ns) =>
        ns.Metadata.DeletionTimestamp is not null && ns.Spec?.Finalizers?.Contains(KubernetesFinalizer) == true;

    private void Reported(NamespaceContentReport report)
    {
        _passes.Remove(report.Namespace);
        var key = new ResourceKey(Namespaces, null, report.Namespace);
        if (Cache.Get(key) is not V1Namespace ns || ns.Metadata.Uid != report.Uid || !Terminating(ns)) return;

        var updated = KubeObjects.Clone(ns);
        updated.Status ??= new V1NamespaceStatus();
        if (NamespaceConditions.Update(updated.Status, NamespaceConditions.Of(report), DateTime.UtcNow))
        {
            // The status update changes the namespace, which brings it back here for the next pass.
            Send(new UpdateObject(Namespaces, updated, "status"), key);
            return;
        }
        if (report.Remaining.Count > 0 || report.Errors.Count > 0)
        {
            RequeueAfter(key, RemainingRequeue);
            return;
        }
        // Nothing left and the conditions say so: release the namespace (the resourceVersion guards against a
        // change we have not seen; a conflict brings the newer namespace through the feed).
        var finalized = KubeObjects.Clone(ns);
        finalized.Spec.Finalizers = finalized.Spec.Finalizers.Where(f => f != KubernetesFinalizer).ToList();
        Send(new UpdateObject(Namespaces, finalized, "finalize"), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code != 404)
            RequeueAfter(key, RemainingRequeue);
        base.OnStoreReplied(reply);
    }
}

/// <summary>The deletion conditions of a terminating namespace, as Kubernetes' namespace deleter words them: every
/// type is present, False with its "ok" reason unless the pass found a problem of that type.</summary>
internal static class NamespaceConditions
{
    private static readonly (string Type, string Reason, string Message)[] Ok =
    [
        ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
        ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
        ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
        ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
        ("NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed"),
    ];

    /// <summary>The problem conditions (status True) a pass's report gives.</summary>
    public static IReadOnlyList<V1NamespaceCondition> Of(NamespaceContentReport report)
    {
        var conditions = new List<V1NamespaceCondition>();
        if (report.Errors.Count > 0)
            conditions.Add(Problem("NamespaceDeletionContentFailure", "ContentDeletionFailed",
                $"Failed to delete all resource types, {report.Errors.Count} remaining: " +
                string.Join(", ", report.Errors.Order(StringComparer.Ordinal))));
        if (report.Remaining.Count > 0)
            conditions.Add(Problem("NamespaceContentRemaining", "SomeResourcesRemain",
                "Some resources are remaining: " + string.Join(", ", report.Remaining
                    .Select(r => $"{r.Key} has {r.Value} resource instances").Order(StringComparer.Ordinal))));
        if (report.Finalizers.Count > 0)
            conditions.Add(Problem("NamespaceFinalizersRemaining", "SomeFinalizerRemain",
                "Some finalizers are remaining: " + string.Join(", ", report.Finalizers
                    .Select(f => $"{f.Key} in {f.Value} resource instances").Order(StringComparer.Ordinal))));
        return conditions;
    }

    private static V1NamespaceCondition Problem(string type, string reason, string message) =>
        new() { Type = type, Status = "True", Reason = reason, Message = message };

    /// <summary>Sets every condition type to the problem given for it or to its ok variant; the transition time
    /// changes only with the status. Returns whether anything changed.</summary>
    public static bool Update(V1NamespaceStatus status, IReadOnlyList<V1NamespaceCondition> problems, DateTime now)
    {
        var changed = false;
        status.Conditions ??= new List<V1NamespaceCondition>();
        var seconds = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        foreach (var (type, reason, message) in Ok)
        {
            var wanted = problems.FirstOrDefault(p => p.Type == type)
                         ?? new V1NamespaceCondition { Type = type, Status = "False", Reason = reason, Message = message };
            var current = status.Conditions.FirstOrDefault(c => c.Type == type);
            if (current is null)
            {
                wanted.LastTransitionTime = seconds;
                status.Conditions.Add(wanted);
                changed = true;
            }
            else if (current.Status != wanted.Status || current.Reason != wanted.Reason || current.Message != wanted.Message)
            {
                if (current.Status != wanted.Status) current.LastTransitionTime = seconds;
                current.Status = wanted.Status;
                current.Reason = wanted.Reason;
                current.Message = wanted.Message;
                changed = true;
            }
        }
        return changed;
    }
}
