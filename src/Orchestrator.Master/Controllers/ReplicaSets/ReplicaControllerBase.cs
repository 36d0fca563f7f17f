using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers.ReplicaSets;

/// <summary>
/// The pod-count loop shared by ReplicaSets and ReplicationControllers (Kubernetes' ReplicaSetController, which
/// also serves RCs): claims the pods its selector matches (adopting orphans, releasing pods it no longer
/// selects), creates missing pods from the template, deletes surplus ones in Kubernetes' order, and writes
/// status. Creates and deletes in flight are tracked as expectations so a stale cache never causes duplicates.
/// As Kubernetes' manageReplicas, one sync creates or deletes at most <see cref="BurstReplicas"/> pods: creations in
/// slow-start batches (1, 2, 4, …) that stop at the first refusal, deletions all at once; a sync whose writes failed
/// shows as the ReplicaFailure condition in the next status.
/// Owns the pods of its owners and the owners' status; never touches the owners' spec.
/// </summary>
internal abstract class ReplicaControllerBase : ControllerActor
{
    private const string PodsResource = "pods";
    /// <summary>Kubernetes' BurstReplicas for ReplicaSets and ReplicationControllers: the most pods one sync creates or deletes.</summary>
    public const int BurstReplicas = 500;

    private readonly string _ownerResource;
    private readonly string _ownerKind;
    private readonly ControllerExpectations _expectations = new();
    private readonly SlowStartBatches<V1Pod> _creations = new();
    /// <summary>Why an owner's last creates or deletes failed, for the ReplicaFailure condition of its next status.</summary>
    private readonly Dictionary<ResourceKey, ReplicaFailure> _failures = new();
    private readonly EventRecorder _events;

    private sealed record CreateTag(ResourceKey Owner, IKubernetesObject<V1ObjectMeta> OwnerObject, long Run);

    private sealed record DeleteTag(ResourceKey Owner, IKubernetesObject<V1ObjectMeta> OwnerObject, string PodName, string? PodUid);

    /// <summary>Orphans to adopt once a fresh read shows their would-be owner still there and not being deleted.</summary>
    private sealed record AdoptTag(string OwnerUid, IReadOnlyList<V1Pod> Orphans);

    protected ReplicaControllerBase(IActorRef store, string ownerResource, string ownerKind, string component, TimeSpan resync)
        : base(store, [ownerResource, PodsResource], resync)
    {
        _ownerResource = ownerResource;
        _ownerKind = ownerKind;
        _events = new EventRecorder(store, component);
        // An owner claims the pods it controls and the orphans of its namespace, nothing else: found by index
        // (controller uid, or the namespace's orphans) instead of walking every pod of the namespace per sync.
        Cache.IndexBy(PodsResource, ClaimIndexOf);
    }

    /// <summary>The index value of a pod for <see cref="Candidates"/>: its controller's uid, or its namespace's orphans.</summary>
    private static string? ClaimIndexOf(IKubernetesObject<V1ObjectMeta> pod) =>
        OwnerReferences.ControllerOf(pod) is { } controller ? controller.Uid : OrphansOf(pod.Metadata.NamespaceProperty);

    private static string OrphansOf(string? @namespace) => "\0orphans/" + @namespace;

    /// <summary>The pods of <paramref name="namespace"/> that <see cref="PodReplicaSync.Claim"/> can take for the owner
    /// (it skips those another controller owns): the ones it controls and the orphans.</summary>
    private IEnumerable<V1Pod> Candidates(IKubernetesObject<V1ObjectMeta> owner, string? @namespace) =>
        Cache.ListBy<V1Pod>(PodsResource, owner.Metadata.Uid ?? "").Where(p => p.Metadata.NamespaceProperty == @namespace)
            .Concat(Cache.ListBy<V1Pod>(PodsResource, OrphansOf(@namespace)));

    /// <summary>The owner's selector, template, replicas and minReadySeconds.</summary>
    protected abstract ReplicaOwner Describe(IKubernetesObject<V1ObjectMeta> owner);

    /// <summary>The owner's status as last written (null when it has none).</summary>
    protected abstract ReplicaCounts? CurrentCounts(IKubernetesObject<V1ObjectMeta> owner);

    /// <summary>A copy of the owner carrying <paramref name="counts"/> in its status.</summary>
    protected abstract IKubernetesObject<V1ObjectMeta> WithCounts(IKubernetesObject<V1ObjectMeta> owner, ReplicaCounts counts);

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(_ownerResource);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == _ownerResource)
        {
            Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
            return;
        }

        var oldPod = old as V1Pod;
        var pod = current as V1Pod;
        if (oldPod is null && pod is not null && OwnerKey(pod) is { } createdFor)
            _expectations.CreationObserved(createdFor);
        if (oldPod is not null && (pod is null || (pod.Metadata.DeletionTimestamp is not null && oldPod.Metadata.DeletionTimestamp is null))
            && OwnerKey(oldPod) is { } deletedFrom)
            _expectations.DeletionObserved(deletedFrom, oldPod.Metadata.Uid);

        foreach (var p in new[] { oldPod, pod })
        {
            if (p is null) continue;
            if (OwnerKey(p) is { } key) Enqueue(key);
            else if (OwnerReferences.ControllerOf(p) is null)
            {
                // An orphan: every owner that selects it may adopt it.
                foreach (var owner in Cache.List<IKubernetesObject<V1ObjectMeta>>(_ownerResource, p.Metadata.NamespaceProperty))
                    if (Describe(owner).Selector.Matches(p.Metadata.Labels)) Enqueue(ObjectCache.KeyOf(_ownerResource, owner));
            }
        }
    }

    private ResourceKey? OwnerKey(V1Pod pod) =>
        OwnerReferences.ControllerOf(pod) is { } r && r.Kind == _ownerKind
            ? new ResourceKey(_ownerResource, pod.Metadata.NamespaceProperty, r.Name)
            : null;

    protected override void Reconcile(ResourceKey key)
    {
        var obj = Cache.Get(key);
        if (obj is null)
        {
            _expectations.Forget(key);
            _creations.Cancel(key);
            _failures.Remove(key);
            return;
        }

        var owner = Describe(obj);
        var claim = PodReplicaSync.Claim(owner, Candidates(obj, key.Namespace));
        // As Kubernetes' RecheckDeletionTimestamp: the cache may still hold an owner the store has deleted (an orphan
        // delete strips the pods' references and removes the owner in one write), and pods adopted by a deleted owner
        // would be collected as garbage. Adopt only after reading the owner from the store itself.
        if (claim.ToAdopt.Count > 0 && obj.Metadata.DeletionTimestamp is null)
            Send(new GetObject(key), new AdoptTag(obj.Metadata.Uid, claim.ToAdopt));
        foreach (var stray in claim.ToRelease)
            SendAndForget(new UpdateObject(PodsResource, OwnerReferences.Released(stray, obj.Metadata.Uid)));

        var active = PodReplicaSync.Active(claim.Owned.Concat(claim.ToAdopt));
        // Kubernetes syncs one key on one worker at a time: no new writes while a slow-start run is still going.
        if (obj.Metadata.DeletionTimestamp is null && _expectations.Satisfied(key) && !_creations.InProgress(key))
            ManageReplicas(key, obj, owner, active);
        // As Kubernetes' syncReplicaSet, the status reports how the last sync's writes went (until the next sync's are in).
        var failure = _failures.GetValueOrDefault(key);

        var current = CurrentCounts(obj);
        var counts = PodReplicaSync.Count(owner, active, DateTime.UtcNow, failure is null ? null : current?.Failure ?? failure);
        if (counts != current)
        {
            var updated = WithCounts(obj, counts);
            updated.Metadata.ResourceVersion = null; // status has one writer: this loop
            SendAndForget(new UpdateObject(_ownerResource, updated, "status"));
        }

        // Pods turn available minReadySeconds after turning ready, with no change to wake us: look again then.
        if (owner.MinReadySeconds > 0 && counts.ReadyReplicas != counts.AvailableReplicas)
            RequeueAfter(key, TimeSpan.FromSeconds(owner.MinReadySeconds));
    }

    private void ManageReplicas(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj, ReplicaOwner owner, IReadOnlyList<V1Pod> active)
    {
        var diff = active.Count - owner.Replicas;
        if (diff == 0) _failures.Remove(key);
        if (diff < 0)
        {
            if (owner.Template is null || !owner.Selector.Matches(owner.Template.Metadata?.Labels))
            {
                // Pods we cannot claim would be created forever; the API should have refused this owner.
                Log.Warning("{0}: selector does not match template labels; not creating pods", key);
                return;
            }
            var count = Math.Min(-diff, BurstReplicas);
            _expectations.ExpectCreations(key, count);
            var pods = Enumerable.Range(0, count).Select(_ => PodReplicaSync.NewPod(owner)).ToList();
            SendCreations(key, obj, _creations.Start(key, pods));
        }
        else if (diff > 0)
        {
            _failures.Remove(key);
            var victims = PodDeletionRanking.PickForDeletion(active, Math.Min(diff, BurstReplicas));
            _expectations.ExpectDeletions(key, victims.Select(p => p.Metadata.Uid).Where(u => u is not null)!);
            foreach (var pod in victims)
                Send(new DeleteObject(new ResourceKey(PodsResource, pod.Metadata.NamespaceProperty, pod.Metadata.Name),
                        PreconditionUid: pod.Metadata.Uid),
                    new DeleteTag(key, obj, pod.Metadata.Name, pod.Metadata.Uid));
        }
    }

    private void SendCreations(ResourceKey key, IKubernetesObject<V1ObjectMeta> obj, SlowStartStep<V1Pod> step)
    {
        if (step.Failed)
        {
            // Kubernetes' "Slow-start failure": the pods never sent are not expected; the next sync starts again from one.
            if (step.Skipped > 0) Log.Debug("{0}: slow-start failure, skipping {1} pod creations", key, step.Skipped);
            _expectations.LowerCreations(key, step.Skipped);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
        else if (step.Succeeded && _failures.Remove(key)) Enqueue(key); // the status no longer reports a failure
        // Each pod is built for its create alone (PodReplicaSync.NewPod: the template deep-copied) and never touched
        // again here: the store takes it without copying it.
        foreach (var pod in step.Send) Send(new CreateObject(PodsResource, pod) { HandedOver = true }, new CreateTag(key, obj, step.Run));
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case CreateTag c when reply.Succeeded:
                _events.Record(c.OwnerObject, EventRecorder.Normal, "SuccessfulCreate",
                    $"Created pod: {reply.Stored!.Object.Metadata.Name}", Self);
                SendCreations(c.Owner, c.OwnerObject, _creations.Answered(c.Owner, c.Run, succeeded: true));
                break;
            case CreateTag c when StoreErrors.IsNamespaceTerminating(reply.Failed!.Error):
                // As Kubernetes: every later create would be refused the same way, and the namespace takes the owner.
                _expectations.CreationObserved(c.Owner);
                SendCreations(c.Owner, c.OwnerObject, _creations.Answered(c.Owner, c.Run, succeeded: true));
                break;
            case CreateTag c:
                _expectations.CreationObserved(c.Owner);
                _events.Record(c.OwnerObject, EventRecorder.Warning, "FailedCreate",
                    $"Error creating: {reply.Failed!.Error.Message}", Self);
                _failures[c.Owner] = new ReplicaFailure("FailedCreate", reply.Failed.Error.Message);
                SendCreations(c.Owner, c.OwnerObject, _creations.Answered(c.Owner, c.Run, succeeded: false));
                break;
            case DeleteTag d when reply.Succeeded:
                _events.Record(d.OwnerObject, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {d.PodName}", Self);
                break;
            case DeleteTag d:
                _expectations.DeletionObserved(d.Owner, d.PodUid);
                if (reply.Failed!.Error.Code != 404)
                {
                    _events.Record(d.OwnerObject, EventRecorder.Warning, "FailedDelete",
                        $"Error deleting: {reply.Failed.Error.Message}", Self);
                    _failures[d.Owner] = new ReplicaFailure("FailedDelete", reply.Failed.Error.Message);
                }
                RequeueAfter(d.Owner, TimeSpan.FromSeconds(1));
                break;
            case AdoptTag a when reply.Stored?.Object is { } owner && owner.Metadata.Uid == a.OwnerUid && owner.Metadata.DeletionTimestamp is null:
                foreach (var orphan in a.Orphans)
                    SendAndForget(new UpdateObject(PodsResource, OwnerReferences.Adopted(orphan, owner)));
                break;
            case AdoptTag:
                break; // the owner is gone or going: its orphans stay orphans
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }
}
