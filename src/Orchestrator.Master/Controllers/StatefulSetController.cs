using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.Controllers.Revisions;
using Orchestrator.Master.Controllers.StatefulSets;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Runs apps/v1 StatefulSets as Kubernetes' StatefulSet controller does: pods <c>&lt;set&gt;-&lt;ordinal&gt;</c> for the
/// ordinals [start, start + replicas) with stable names and hostnames (subdomain: the governing Service); with
/// OrderedReady one pod at a time, each created only when the lower ones run and are available, scaled down from the
/// highest ordinal one at a time; with Parallel all at once. Failed pods are recreated under the same name. Each
/// template is a ControllerRevision; RollingUpdate replaces the pods from the highest ordinal down to
/// partition, one at a time (or maxUnavailable), each after the one before is available again; pods below the partition
/// keep the current revision; OnDelete leaves replacing to the user. Writes the status (replicas, ready, available,
/// current/updated counts and revisions) that <c>kubectl rollout status</c> reads. Each volumeClaimTemplate becomes one
/// claim per ordinal, created before its pod and kept when the pod goes; persistentVolumeClaimRetentionPolicy is kept
/// in the claims' owner references (<see cref="StatefulClaims"/>), which the garbage collector follows.
/// </summary>
internal sealed class StatefulSetController : ControllerActor
{
    public const string Component = "statefulset-controller";
    private const string StatefulSets = "statefulsets";
    private const string Pods = "pods";
    private const string Revisions = "controllerrevisions";
    private const string Claims = "persistentvolumeclaims";

    private readonly ControllerExpectations _expectations = new();
    private readonly EventRecorder _events;

    private sealed record CreateTag(ResourceKey Owner, V1StatefulSet Object, string PodName);

    private sealed record ClaimTag(V1StatefulSet Object, string ClaimName, string PodName, string Verb);

    private sealed record DeleteTag(ResourceKey Owner, V1StatefulSet Object, string PodName, string? PodUid);

    public StatefulSetController(IActorRef store, TimeSpan resync) : base(store, [StatefulSets, Pods, Revisions, Claims], resync)
    {
        _events = new EventRecorder(store, Component);
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new StatefulSetController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(StatefulSets);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == StatefulSets)
        {
            Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
            return;
        }
        if (resource == Claims)
        {
            // A claim matters to the set its retention policy made it an owner of; others wait for the resync.
            var claim = (current ?? old)!;
            foreach (var r in claim.Metadata.OwnerReferences ?? [])
                if (r.Kind == "StatefulSet") Enqueue(new ResourceKey(StatefulSets, claim.Metadata.NamespaceProperty, r.Name));
            return;
        }
        var oldPod = old as V1Pod;
        var pod = current as V1Pod;
        if (oldPod is null && pod is not null && OwnerKey(pod) is { } createdFor) _expectations.CreationObserved(createdFor);
        if (oldPod is not null && (pod is null || (pod.Metadata.DeletionTimestamp is not null && oldPod.Metadata.DeletionTimestamp is null))
            && OwnerKey(oldPod) is { } deletedFrom)
            _expectations.DeletionObserved(deletedFrom, oldPod.Metadata.Uid);
        if ((current ?? old) is { } changed && OwnerKey(changed) is { } owner) Enqueue(owner);
    }

    private static ResourceKey? OwnerKey(IKubernetesObject<V1ObjectMeta> obj) =>
        OwnerReferences.ControllerOf(obj) is { Kind: "StatefulSet" } r ? new ResourceKey(StatefulSets, obj.Metadata.NamespaceProperty, r.Name) : null;

    protected override void Reconcile(ResourceKey key)
    {
        var set = Cache.Get<V1StatefulSet>(key.Resource, key.Namespace, key.Name);
        if (set is null)
        {
            _expectations.Forget(key);
            return;
        }
        if (set.Metadata.DeletionTimestamp is not null) return; // the garbage collector takes pods and revisions away
        var selector = LabelSelector.FromLabelSelector(set.Spec.Selector);
        if (set.Spec.Template is null || !selector.Matches(set.Spec.Template.Metadata?.Labels)) return;
        var now = DateTime.UtcNow;
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var start = StatefulPods.Start(set);
        var replicas = set.Spec.Replicas ?? 1;
        var end = start + replicas;
        var ordered = set.Spec.PodManagementPolicy != "Parallel";

        var pods = Cache.List<V1Pod>(Pods, key.Namespace)
            .Where(p => OwnerReferences.IsControlledBy(p, set) && selector.Matches(p.Metadata.Labels) && StatefulPods.Ordinal(set, p) >= 0)
            .ToList();

        var owned = ControllerRevisions.Owned(Cache.List<V1ControllerRevision>(Revisions, key.Namespace), set);
        var plan = ControllerRevisions.Plan(set, set.Spec.Template, set.Status?.CollisionCount, owned,
            pods.Select(StatefulPods.RevisionOf).OfType<string>().Append(set.Status?.CurrentRevision ?? ""), set.Spec.RevisionHistoryLimit ?? 10);
        if (plan.Create is not null) SendAndForget(new CreateObject(Revisions, plan.Create));
        if (plan.Renumber is not null) SendAndForget(new UpdateObject(Revisions, plan.Renumber));
        foreach (var revision in plan.Delete)
            SendAndForget(new DeleteObject(ObjectCache.KeyOf(Revisions, revision), PreconditionUid: revision.Metadata.Uid));
        var updateRevision = plan.Current.Metadata.Name;
        var updateHash = plan.Hash;
        var currentRevision = string.IsNullOrEmpty(set.Status?.CurrentRevision) ? updateRevision : set.Status.CurrentRevision;
        var currentRecord = owned.FirstOrDefault(r => r.Metadata.Name == currentRevision);
        var currentHash = currentRecord?.Metadata.Labels?.TryGetValue(ControllerRevisions.HashLabel, out var h) == true ? h : updateHash;
        var currentTemplate = currentRecord is null ? set.Spec.Template : StatefulPods.TemplateOf(currentRecord) ?? set.Spec.Template;

        if (_expectations.Satisfied(key))
            Manage(key, set, pods, start, end, ordered, minReady, now, updateHash, currentHash, currentTemplate);

        // Status (Kubernetes' computeReplicaStatus); the current revision becomes the update revision once every pod has it.
        var live = pods.Where(p => p.Metadata.DeletionTimestamp is null).ToList();
        var updated = live.Count(p => StatefulPods.RevisionOf(p) == updateHash);
        var status = new V1StatefulSetStatus
        {
            ObservedGeneration = set.Metadata.Generation,
            Replicas = live.Count,
            ReadyReplicas = live.Count(p => p.Status?.Phase == "Running" && PodFacts.IsReady(p)),
            AvailableReplicas = live.Count(p => StatefulPods.IsRunningAndAvailable(p, minReady, now)),
            CurrentReplicas = live.Count(p => StatefulPods.RevisionOf(p) == currentHash),
            UpdatedReplicas = updated,
            CurrentRevision = currentRevision,
            UpdateRevision = updateRevision,
            CollisionCount = set.Status?.CollisionCount ?? 0,
            Conditions = set.Status?.Conditions,
        };
        if (updated == replicas && live.Count == replicas && live.All(p => StatefulPods.Ordinal(set, p) < end))
        {
            status.CurrentRevision = updateRevision;
            status.CurrentReplicas = updated;
        }
        if (KubeObjects.Serialize(status) != KubeObjects.Serialize(set.Status ?? new V1StatefulSetStatus()))
        {
            var withStatus = KubeObjects.Clone(set);
            withStatus.Status = status;
            withStatus.Metadata.ResourceVersion = null; // status has one writer: this loop
            SendAndForget(new UpdateObject(StatefulSets, withStatus, "status"));
        }
        if (minReady > 0 && status.ReadyReplicas != status.AvailableReplicas) RequeueAfter(key, TimeSpan.FromSeconds(minReady));
    }

    /// <summary>Kubernetes' updateStatefulSet, one step per reconcile: create or replace pods of the ordinals in range,
    /// delete the condemned ones from the highest, then roll the template.</summary>
    private void Manage(ResourceKey key, V1StatefulSet set, List<V1Pod> pods, int start, int end, bool ordered, int minReady, DateTime now,
        string updateHash, string currentHash, V1PodTemplateSpec currentTemplate)
    {
        var byOrdinal = pods.GroupBy(p => StatefulPods.Ordinal(set, p)).ToDictionary(g => g.Key, g => g.First());
        var rolling = set.Spec.UpdateStrategy?.Type != "OnDelete";
        var partition = rolling ? set.Spec.UpdateStrategy?.RollingUpdate?.Partition ?? 0 : 0;
        var create = new List<V1Pod>();
        var delete = new List<V1Pod>();
        var blocked = false;

        for (var ordinal = start; ordinal < end && !blocked; ordinal++)
        {
            if (!byOrdinal.TryGetValue(ordinal, out var pod))
            {
                // Claims first (Kubernetes' createPersistentVolumeClaims); a claim still owned by a former pod of this
                // ordinal or being deleted is stale: the pod waits until the garbage collector has taken it.
                if (!CreateClaims(set, ordinal, null))
                {
                    if (ordered) blocked = true;
                    continue;
                }
                var current = rolling && ordinal < start + partition;
                create.Add(StatefulPods.New(set, current ? currentTemplate : set.Spec.Template, current ? currentHash : updateHash, ordinal));
                if (ordered) blocked = true;
                continue;
            }
            if (pod.Status?.Phase is "Failed" or "Succeeded" && pod.Metadata.DeletionTimestamp is null)
            {
                delete.Add(pod); // recreated under the same name once it is gone
                if (ordered) blocked = true;
                continue;
            }
            if (pod.Status?.Phase == "Pending" && pod.Metadata.DeletionTimestamp is null) CreateClaims(set, ordinal, pod);
            if (pod.Metadata.DeletionTimestamp is null) RetainClaims(set, pod, scaledDown: false);
            if (ordered && (pod.Metadata.DeletionTimestamp is not null || !StatefulPods.IsRunningAndAvailable(pod, minReady, now)))
                blocked = true; // wait for this one before the next
        }

        // Condemned pods (ordinals out of range), highest first; with OrderedReady one at a time, once all others are healthy.
        if (!blocked && create.Count == 0 && delete.Count == 0)
        {
            var condemned = pods.Where(p => StatefulPods.Ordinal(set, p) is var o && (o < start || o >= end))
                .OrderByDescending(p => StatefulPods.Ordinal(set, p)).ToList();
            if (ordered)
            {
                if (condemned.FirstOrDefault() is { } highest)
                {
                    if (highest.Metadata.DeletionTimestamp is null) delete.Add(highest);
                    blocked = true;
                }
            }
            else delete.AddRange(condemned.Where(p => p.Metadata.DeletionTimestamp is null));
        }

        // RollingUpdate: from the highest ordinal down to the partition, maxUnavailable at a time.
        if (rolling && !blocked && create.Count == 0 && delete.Count == 0)
        {
            var maxUnavailable = MaxUnavailable(set);
            var inRange = Enumerable.Range(start, end - start).Where(byOrdinal.ContainsKey).Select(o => byOrdinal[o]).ToList();
            var unavailable = inRange.Count(p => p.Metadata.DeletionTimestamp is not null || !StatefulPods.IsRunningAndAvailable(p, minReady, now))
                              + (end - start - inRange.Count);
            foreach (var pod in inRange.OrderByDescending(p => StatefulPods.Ordinal(set, p)))
            {
                if (StatefulPods.Ordinal(set, pod) < start + partition) break;
                if (StatefulPods.RevisionOf(pod) == updateHash || pod.Metadata.DeletionTimestamp is not null) continue;
                if (unavailable >= maxUnavailable) break;
                delete.Add(pod);
                if (StatefulPods.IsRunningAndAvailable(pod, minReady, now)) unavailable++;
            }
        }

        // Before a scaled-down pod goes, its claims learn whether to go with it (whenScaled).
        foreach (var pod in delete.Where(p => StatefulPods.Ordinal(set, p) is var o && (o < start || o >= end)))
            RetainClaims(set, pod, scaledDown: true);

        if (create.Count > 0) _expectations.ExpectCreations(key, create.Count);
        if (delete.Count > 0) _expectations.ExpectDeletions(key, delete.Select(p => p.Metadata.Uid).Where(u => u is not null)!);
        foreach (var pod in create) Send(new CreateObject(Pods, pod), new CreateTag(key, set, pod.Metadata.Name));
        foreach (var pod in delete)
            Send(new DeleteObject(ObjectCache.KeyOf(Pods, pod), PreconditionUid: pod.Metadata.Uid, GracePeriodSeconds: null), // graceful: at most one pod per name
                new DeleteTag(key, set, pod.Metadata.Name, pod.Metadata.Uid));
    }

    /// <summary>Creates the claims of <paramref name="ordinal"/> that do not exist yet; false when one of them is stale
    /// (being deleted, or owned by a pod other than <paramref name="pod"/>), so the pod must not be created now.</summary>
    private bool CreateClaims(V1StatefulSet set, int ordinal, V1Pod? pod)
    {
        var fresh = true;
        foreach (var claim in StatefulClaims.For(set, ordinal))
        {
            var existing = Cache.Get<V1PersistentVolumeClaim>(Claims, claim.Metadata.NamespaceProperty, claim.Metadata.Name);
            if (existing is null)
            {
                if (set.Spec.PersistentVolumeClaimRetentionPolicy?.WhenDeleted == "Delete")
                    claim.Metadata.OwnerReferences = [OwnerReferences.NewControllerRef(set)];
                Send(new CreateObject(Claims, claim), new ClaimTag(set, claim.Metadata.Name, $"{set.Metadata.Name}-{ordinal}", "create"));
                continue;
            }
            if (existing.Metadata.DeletionTimestamp is not null
                || existing.Metadata.OwnerReferences?.Any(r => r.Kind == "Pod" && r.Uid != pod?.Metadata.Uid) == true)
                fresh = false;
        }
        return fresh;
    }

    /// <summary>Keeps the owner references of the pod's claims as the retention policy wants them.</summary>
    private void RetainClaims(V1StatefulSet set, V1Pod pod, bool scaledDown)
    {
        var ordinal = StatefulPods.Ordinal(set, pod);
        foreach (var template in set.Spec.VolumeClaimTemplates ?? [])
        {
            var name = StatefulClaims.Name(set, template.Metadata.Name, ordinal);
            if (Cache.Get<V1PersistentVolumeClaim>(Claims, set.Metadata.NamespaceProperty, name) is not { } claim
                || claim.Metadata.DeletionTimestamp is not null
                || StatefulClaims.OwnersFor(claim, set, pod, scaledDown) is not { } owners)
                continue;
            var updated = KubeObjects.Clone(claim);
            updated.Metadata.OwnerReferences = owners;
            Send(new UpdateObject(Claims, updated), new ClaimTag(set, name, pod.Metadata.Name, "update"));
        }
    }

    private static int MaxUnavailable(V1StatefulSet set)
    {
        if (set.Spec.UpdateStrategy?.RollingUpdate?.MaxUnavailable?.Value is not { } text) return 1;
        var replicas = set.Spec.Replicas ?? 1;
        var value = text.EndsWith('%') && int.TryParse(text[..^1], out var percent) ? percent * replicas / 100 : int.TryParse(text, out var n) ? n : 1;
        return Math.Max(1, value);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case CreateTag c when reply.Succeeded:
                _events.Record(c.Object, EventRecorder.Normal, "SuccessfulCreate", $"create Pod {c.PodName} in StatefulSet {c.Object.Metadata.Name} successful", Self);
                break;
            case CreateTag c:
                _expectations.CreationObserved(c.Owner);
                _events.Record(c.Object, EventRecorder.Warning, "FailedCreate",
                    $"create Pod {c.PodName} in StatefulSet {c.Object.Metadata.Name} failed error: {reply.Failed!.Error.Message}", Self);
                RequeueAfter(c.Owner, TimeSpan.FromSeconds(1));
                break;
            case ClaimTag c when reply.Succeeded:
                _events.Record(c.Object, EventRecorder.Normal, c.Verb == "create" ? "SuccessfulCreate" : "SuccessfulUpdate",
                    $"{c.Verb} Claim {c.ClaimName} Pod {c.PodName} in StatefulSet {c.Object.Metadata.Name} success", Self);
                break;
            case ClaimTag c when reply.Failed!.Error.Code is 409:
                break; // already there, or changed meanwhile: the next reconcile reads it again
            case ClaimTag c:
                _events.Record(c.Object, EventRecorder.Warning, c.Verb == "create" ? "FailedCreate" : "FailedUpdate",
                    $"{c.Verb} Claim {c.ClaimName} for Pod {c.PodName} in StatefulSet {c.Object.Metadata.Name} failed error: {reply.Failed.Error.Message}", Self);
                break;
            case DeleteTag d when reply.Succeeded:
                _events.Record(d.Object, EventRecorder.Normal, "SuccessfulDelete", $"delete Pod {d.PodName} in StatefulSet {d.Object.Metadata.Name} successful", Self);
                break;
            case DeleteTag d:
                _expectations.DeletionObserved(d.Owner, d.PodUid);
                RequeueAfter(d.Owner, TimeSpan.FromSeconds(1));
                break;
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }
}
