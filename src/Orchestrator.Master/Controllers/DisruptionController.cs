using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' disruption controller: keeps each policy/v1 PodDisruptionBudget's status — the pods its selector
/// matches that are Ready and not being deleted (currentHealthy, less the pods the eviction API has just evicted and
/// still sees, <c>status.disruptedPods</c>, for at most 2 minutes), how many must stay (desiredHealthy: minAvailable, or
/// the expected pods less maxUnavailable; percentages of the expected pods, which are the replicas of the pods'
/// controllers — Deployment, ReplicaSet, ReplicationController, StatefulSet), disruptionsAllowed and the
/// DisruptionAllowed condition. The eviction API reads and decrements it. A budget whose pods have no such controller
/// while it needs one allows no disruption (SyncFailed), as in Kubernetes. Writes PodDisruptionBudget status only,
/// conditionally (the eviction API writes it too).
/// </summary>
internal sealed class DisruptionController : ControllerActor
{
    private const string Budgets = "poddisruptionbudgets";
    private const string Pods = "pods";
    private static readonly string[] Owners = ["deployments", "replicasets", "replicationcontrollers", "statefulsets"];
    public static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    private sealed record StatusTag(ResourceKey Budget);

    public DisruptionController(IActorRef store, TimeSpan resync) : base(store, [Budgets, Pods, .. Owners], resync) { }

    public static Props Props(IActorRef store, TimeSpan resync) => Akka.Actor.Props.Create(() => new DisruptionController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Budgets);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var obj = (current ?? old)!;
        if (resource == Budgets)
        {
            Enqueue(ObjectCache.KeyOf(resource, obj));
            return;
        }
        foreach (var budget in Cache.List<V1PodDisruptionBudget>(Budgets, obj.Metadata.NamespaceProperty))
            Enqueue(ObjectCache.KeyOf(Budgets, budget));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var pdb = Cache.Get<V1PodDisruptionBudget>(key.Resource, key.Namespace, key.Name);
        if (pdb is null || pdb.Metadata.DeletionTimestamp is not null) return;
        var now = DateTime.UtcNow;
        var spec = pdb.Spec ?? new V1PodDisruptionBudgetSpec();
        var pods = spec.Selector is null
            ? []
            : Cache.List<V1Pod>(Pods, key.Namespace).Where(p => LabelSelector.FromLabelSelector(spec.Selector).Matches(p.Metadata.Labels)).ToList();

        // Evicted pods still seen: not counted as healthy until they go (or 2 minutes pass).
        var disrupted = new Dictionary<string, DateTime?>();
        var recheck = TimeSpan.Zero;
        foreach (var (name, at) in pdb.Status?.DisruptedPods ?? new Dictionary<string, DateTime?>())
        {
            var pod = pods.FirstOrDefault(p => p.Metadata.Name == name);
            if (at is null) continue;
            var since = at.Value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(at.Value, DateTimeKind.Utc) : at.Value.ToUniversalTime();
            if (pod is null || pod.Metadata.DeletionTimestamp is not null || now - since >= DeletionTimeout) continue;
            disrupted[name] = at;
            var left = since + DeletionTimeout - now;
            if (recheck == TimeSpan.Zero || left < recheck) recheck = left;
        }
        var healthy = pods.Count(p => p.Metadata.DeletionTimestamp is null && PodFacts.IsReady(p) && !disrupted.ContainsKey(p.Metadata.Name));

        string? failure = null;
        int expected, desired;
        if (spec.MaxUnavailable is { } maxUnavailable)
        {
            expected = ExpectedPods(pods, ref failure);
            desired = Math.Max(0, expected - Scaled(maxUnavailable, expected));
        }
        else if (spec.MinAvailable is { } minAvailable && !minAvailable.Value.EndsWith('%'))
        {
            expected = pods.Count;
            desired = int.TryParse(minAvailable.Value, out var n) ? n : 0;
        }
        else if (spec.MinAvailable is { } percent)
        {
            expected = ExpectedPods(pods, ref failure);
            desired = Scaled(percent, expected);
        }
        else
        {
            expected = pods.Count;
            desired = 0;
        }
        var allowed = failure is null ? Math.Max(0, healthy - desired) : 0;

        var status = new V1PodDisruptionBudgetStatus
        {
            ObservedGeneration = pdb.Metadata.Generation,
            DisruptedPods = disrupted.Count == 0 ? null : disrupted,
            DisruptionsAllowed = allowed,
            CurrentHealthy = healthy,
            DesiredHealthy = desired,
            ExpectedPods = expected,
        };
        var (conditionStatus, reason, message) = failure is not null ? ("False", "SyncFailed", failure)
            : allowed > 0 ? ("True", "SufficientPods", "") : ("False", "InsufficientPods", "");
        var previous = pdb.Status?.Conditions?.FirstOrDefault(c => c.Type == "DisruptionAllowed");
        status.Conditions =
        [
            new V1Condition
            {
                Type = "DisruptionAllowed", Status = conditionStatus, Reason = reason, Message = message,
                ObservedGeneration = pdb.Metadata.Generation,
                LastTransitionTime = previous?.Status == conditionStatus ? previous.LastTransitionTime : now,
            },
        ];
        if (KubeObjects.Serialize(status) != KubeObjects.Serialize(pdb.Status ?? new V1PodDisruptionBudgetStatus()))
        {
            var updated = KubeObjects.Clone(pdb);
            updated.Status = status; // conditional on the resourceVersion read: the eviction API writes this status too
            Send(new UpdateObject(Budgets, updated, "status"), new StatusTag(key));
        }
        if (recheck > TimeSpan.Zero) RequeueAfter(key, recheck + TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Kubernetes' getExpectedPodCount with percentages or maxUnavailable: the replicas of the pods' controllers.</summary>
    private int ExpectedPods(List<V1Pod> pods, ref string? failure)
    {
        var counted = new HashSet<string>();
        var expected = 0;
        foreach (var pod in pods)
        {
            var (uid, replicas) = ScaleOf(pod);
            if (uid is null)
            {
                failure ??= $"found no controllers for pod \"{pod.Metadata.Name}\"";
                continue;
            }
            if (counted.Add(uid)) expected += replicas;
        }
        return expected;
    }

    private (string? Uid, int Replicas) ScaleOf(V1Pod pod)
    {
        var ns = pod.Metadata.NamespaceProperty;
        if (OwnerReferences.ControllerOf(pod) is not { } owner) return (null, 0);
        switch (owner.Kind)
        {
            case "ReplicaSet" when Cache.Get<V1ReplicaSet>("replicasets", ns, owner.Name) is { } rs && rs.Metadata.Uid == owner.Uid:
                if (OwnerReferences.ControllerOf(rs) is { Kind: "Deployment" } d
                    && Cache.Get<V1Deployment>("deployments", ns, d.Name) is { } deployment && deployment.Metadata.Uid == d.Uid)
                    return (deployment.Metadata.Uid, deployment.Spec?.Replicas ?? 1);
                return (rs.Metadata.Uid, rs.Spec?.Replicas ?? 1);
            case "ReplicationController" when Cache.Get<V1ReplicationController>("replicationcontrollers", ns, owner.Name) is { } rc && rc.Metadata.Uid == owner.Uid:
                return (rc.Metadata.Uid, rc.Spec?.Replicas ?? 1);
            case "StatefulSet" when Cache.Get<V1StatefulSet>("statefulsets", ns, owner.Name) is { } sts && sts.Metadata.Uid == owner.Uid:
                return (sts.Metadata.Uid, sts.Spec?.Replicas ?? 1);
            default:
                return (null, 0);
        }
    }

    private static int Scaled(IntOrString value, int total)
    {
        var text = value.Value ?? "0";
        if (text.EndsWith('%') && int.TryParse(text[..^1], out var percent)) return (int)Math.Ceiling(percent * total / 100.0);
        return int.TryParse(text, out var n) ? n : 0;
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is StatusTag s && reply.Failed is { Error.Code: 409 }) RequeueAfter(s.Budget, TimeSpan.FromMilliseconds(200));
        else base.OnStoreReplied(reply);
    }
}
