using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.DaemonSets;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Master.Controllers.Revisions;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Runs apps/v1 DaemonSets as Kubernetes' DaemonSet controller does: one pod on every node the template may run on
/// (<see cref="DaemonPods.ShouldRun"/>), created bound to its node; pods on nodes that no longer qualify (an untolerated
/// NoExecute taint among them: <see cref="DaemonPods.ShouldContinueRunning"/>), extra pods on
/// a node and failed pods are deleted (failed ones are replaced). Each template is a ControllerRevision (for
/// <c>kubectl rollout history|undo</c>); with RollingUpdate old pods are replaced node by node within maxUnavailable
/// (or, with maxSurge, the new pod starts first and the old one goes once the new one is available); with OnDelete
/// only pods deleted by hand are recreated from the new template. As Kubernetes' syncNodes, one sync creates and
/// deletes at most <see cref="BurstReplicas"/> pods, the creations in slow-start batches (1, 2, 4, …) that stop at
/// the first refusal. Writes the status counts <c>kubectl rollout status</c> reads. Owns the DaemonSets' pods,
/// revisions and status.
/// </summary>
internal sealed class DaemonSetController : ControllerActor
{
    public const string Component = "daemonset-controller";
    private const string DaemonSets = "daemonsets";
    private const string Pods = "pods";
    private const string Nodes = "nodes";
    private const string Revisions = "controllerrevisions";

    /// <summary>Kubernetes' BurstReplicas for DaemonSets: the most pods one sync creates, and the most it deletes.</summary>
    public const int BurstReplicas = 250;

    private readonly ControllerExpectations _expectations = new();
    private readonly SlowStartBatches<V1Pod> _creations = new();
    private readonly EventRecorder _events;

    private sealed record CreateTag(ResourceKey Owner, V1DaemonSet Object, long Run);

    private sealed record DeleteTag(ResourceKey Owner, V1DaemonSet Object, string PodName, string? PodUid);

    public DaemonSetController(IActorRef store, TimeSpan resync) : base(store, [DaemonSets, Pods, Nodes, Revisions], resync)
    {
        _events = new EventRecorder(store, Component);
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new DaemonSetController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(DaemonSets);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        switch (resource)
        {
            case DaemonSets:
                Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
                break;
            case Nodes:
                foreach (var key in Cache.Keys(DaemonSets)) Enqueue(key);
                break;
            case Pods or Revisions:
                var oldPod = old as V1Pod;
                var pod = current as V1Pod;
                if (oldPod is null && pod is not null && OwnerKey(pod) is { } createdFor) _expectations.CreationObserved(createdFor);
                if (oldPod is not null && (pod is null || (pod.Metadata.DeletionTimestamp is not null && oldPod.Metadata.DeletionTimestamp is null))
                    && OwnerKey(oldPod) is { } deletedFrom)
                    _expectations.DeletionObserved(deletedFrom, oldPod.Metadata.Uid);
                if ((current ?? old) is { } changed && OwnerKey(changed) is { } owner) Enqueue(owner);
                break;
        }
    }

    private static ResourceKey? OwnerKey(IKubernetesObject<V1ObjectMeta> obj) =>
        OwnerReferences.ControllerOf(obj) is { Kind: "DaemonSet" } r ? new ResourceKey(DaemonSets, obj.Metadata.NamespaceProperty, r.Name) : null;

    protected override void Reconcile(ResourceKey key)
    {
        var ds = Cache.Get<V1DaemonSet>(key.Resource, key.Namespace, key.Name);
        if (ds is null)
        {
            _expectations.Forget(key);
            _creations.Cancel(key);
            return;
        }
        if (ds.Metadata.DeletionTimestamp is not null) return; // the garbage collector takes pods and revisions away
        var selector = LabelSelector.FromLabelSelector(ds.Spec.Selector);
        if (ds.Spec.Template is null || !selector.Matches(ds.Spec.Template.Metadata?.Labels)) return;
        var now = DateTime.UtcNow;
        var minReady = ds.Spec.MinReadySeconds ?? 0;

        var pods = Cache.List<V1Pod>(Pods, key.Namespace)
            .Where(p => OwnerReferences.IsControlledBy(p, ds) && selector.Matches(p.Metadata.Labels)).ToList();
        var live = pods.Where(p => p.Metadata.DeletionTimestamp is null).ToList();

        // The revision of the current template, and the history beyond the limit.
        var owned = ControllerRevisions.Owned(Cache.List<V1ControllerRevision>(Revisions, key.Namespace), ds);
        var plan = ControllerRevisions.Plan(ds, ds.Spec.Template, ds.Status?.CollisionCount, owned,
            live.Select(DaemonPods.HashOf).OfType<string>(), ds.Spec.RevisionHistoryLimit ?? 10);
        if (plan.Create is not null) SendAndForget(new CreateObject(Revisions, plan.Create));
        if (plan.Renumber is not null) SendAndForget(new UpdateObject(Revisions, plan.Renumber));
        foreach (var revision in plan.Delete)
            SendAndForget(new DeleteObject(ObjectCache.KeyOf(Revisions, revision), PreconditionUid: revision.Metadata.Uid));
        var hash = plan.Hash;

        var nodes = Cache.List<V1Node>(Nodes).ToList();
        var shouldRun = nodes.Where(n => DaemonPods.ShouldRun(ds, n)).Select(n => n.Metadata.Name).ToHashSet();
        // kube's shouldContinueRunning: a pod may stay where no untolerated NoExecute taint is (a NotReady node's
        // not-ready:NoSchedule taint keeps new daemon pods off it, not the running one)
        var mayStay = nodes.Where(n => !shouldRun.Contains(n.Metadata.Name) && DaemonPods.ShouldContinueRunning(ds, n))
            .Select(n => n.Metadata.Name).ToHashSet();
        var byNode = live.GroupBy(p => p.Spec?.NodeName ?? "").ToDictionary(g => g.Key, g => g.ToList());

        // As Kubernetes, which syncs one key on one worker at a time: no new writes while a slow-start run is going.
        if (_expectations.Satisfied(key) && !_creations.InProgress(key))
        {
            var create = new List<string>();
            var delete = new List<V1Pod>();
            foreach (var (node, onNode) in byNode)
            {
                if (shouldRun.Contains(node)) continue;
                if (!mayStay.Contains(node))
                {
                    delete.AddRange(onNode);
                    continue;
                }
                // as kube's podsShouldBeOnNode: failed pods go (not replaced here), and of several the oldest stays
                var failed = onNode.Where(p => p.Status?.Phase == "Failed").ToList();
                delete.AddRange(failed);
                delete.AddRange(onNode.Except(failed).OrderBy(p => p.Metadata.CreationTimestamp).Skip(1));
            }
            foreach (var node in shouldRun)
            {
                var onNode = byNode.GetValueOrDefault(node) ?? [];
                var failed = onNode.Where(p => p.Status?.Phase == "Failed").ToList();
                delete.AddRange(failed);
                var running = onNode.Except(failed).OrderBy(p => p.Metadata.CreationTimestamp).ToList();
                if (running.Count == 0) create.Add(node);
                else if (running.Count > 1 && !Surging(ds))
                    delete.AddRange(running.Skip(1)); // the oldest stays
            }
            if (delete.Count == 0 && create.Count == 0 && ds.Spec.UpdateStrategy?.Type != "OnDelete")
                RollingUpdate(ds, shouldRun, byNode, hash, minReady, now, create, delete);

            if (failedOrNew(create, delete)) SyncNodes(key, ds, hash, create, delete);
        }

        var status = Status(ds, shouldRun, byNode, hash, minReady, now);
        if (KubeObjects.Serialize(status) != KubeObjects.Serialize(ds.Status ?? new V1DaemonSetStatus()))
        {
            var updated = KubeObjects.Clone(ds);
            updated.Status = status;
            updated.Metadata.ResourceVersion = null; // status has one writer: this loop
            SendAndForget(new UpdateObject(DaemonSets, updated, "status"));
        }
        if (minReady > 0 && status.NumberReady != status.NumberAvailable) RequeueAfter(key, TimeSpan.FromSeconds(minReady));

        static bool failedOrNew(List<string> create, List<V1Pod> delete) => create.Count > 0 || delete.Count > 0;
    }

    /// <summary>Kubernetes' syncNodes: expectations first, then at most <see cref="BurstReplicas"/> creations in
    /// slow-start batches and at most as many deletions at once.</summary>
    private void SyncNodes(ResourceKey key, V1DaemonSet ds, string hash, List<string> create, List<V1Pod> delete)
    {
        var creating = create.Take(BurstReplicas).Select(node => DaemonPods.New(ds, node, hash)).ToList();
        var deleting = delete.DistinctBy(p => p.Metadata.Uid).Take(BurstReplicas).ToList();
        _expectations.ExpectCreations(key, creating.Count);
        if (deleting.Count > 0) _expectations.ExpectDeletions(key, deleting.Select(p => p.Metadata.Uid).Where(u => u is not null)!);
        SendCreations(key, ds, _creations.Start(key, creating));
        foreach (var pod in deleting)
            Send(new DeleteObject(ObjectCache.KeyOf(Pods, pod), PreconditionUid: pod.Metadata.Uid),
                new DeleteTag(key, ds, pod.Metadata.Name, pod.Metadata.Uid));
    }

    private void SendCreations(ResourceKey key, V1DaemonSet ds, SlowStartStep<V1Pod> step)
    {
        if (step.Failed)
        {
            // The skipped pods are not coming; the next sync starts a new run from one.
            if (step.Skipped > 0) Log.Debug("{0}: slow-start failure, skipping {1} pod creations", key, step.Skipped);
            _expectations.LowerCreations(key, step.Skipped);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
        foreach (var pod in step.Send) Send(new CreateObject(Pods, pod), new CreateTag(key, ds, step.Run));
    }

    private static bool Surging(V1DaemonSet ds) =>
        ds.Spec.UpdateStrategy?.Type == "RollingUpdate" && Scaled(ds.Spec.UpdateStrategy.RollingUpdate?.MaxSurge, 100) > 0;

    private static int Scaled(IntOrString? value, int total)
    {
        if (value?.Value is not { } text) return 0;
        if (text.EndsWith('%') && int.TryParse(text[..^1], out var percent)) return (int)Math.Ceiling(percent * total / 100.0);
        return int.TryParse(text, out var n) ? n : 0;
    }

    /// <summary>Kubernetes' rollingUpdate: replaces pods of old revisions, at most maxUnavailable nodes without an
    /// available pod at a time; with maxSurge, starts new pods beside old ones on at most maxSurge nodes and deletes an
    /// old pod once its node's new pod is available.</summary>
    private static void RollingUpdate(V1DaemonSet ds, HashSet<string> shouldRun, Dictionary<string, List<V1Pod>> byNode, string hash,
        int minReady, DateTime now, List<string> create, List<V1Pod> delete)
    {
        var desired = shouldRun.Count;
        var rolling = ds.Spec.UpdateStrategy?.RollingUpdate;
        var maxSurge = Scaled(rolling?.MaxSurge, desired);
        var maxUnavailable = Scaled(rolling?.MaxUnavailable, desired);
        if (maxSurge == 0 && maxUnavailable == 0) maxUnavailable = 1;
        bool Available(V1Pod p) => PodFacts.IsAvailable(p, minReady, now);

        if (maxSurge == 0)
        {
            var unavailable = 0;
            var candidates = new List<V1Pod>();
            foreach (var node in shouldRun.Order())
            {
                var onNode = byNode.GetValueOrDefault(node) ?? [];
                var newPod = onNode.FirstOrDefault(p => DaemonPods.HashOf(p) == hash);
                var oldPod = onNode.FirstOrDefault(p => DaemonPods.HashOf(p) != hash);
                if (newPod is not null)
                {
                    if (!Available(newPod)) unavailable++;
                    continue;
                }
                if (oldPod is null)
                {
                    unavailable++;
                    continue;
                }
                if (!Available(oldPod))
                {
                    unavailable++;
                    delete.Add(oldPod); // an unavailable old pod is replaced at once
                }
                else candidates.Add(oldPod);
            }
            delete.AddRange(candidates.Take(Math.Max(0, maxUnavailable - unavailable)));
            return;
        }

        var surging = 0;
        var toSurge = new List<string>();
        foreach (var node in shouldRun.Order())
        {
            var onNode = byNode.GetValueOrDefault(node) ?? [];
            var newPod = onNode.FirstOrDefault(p => DaemonPods.HashOf(p) == hash);
            var oldPods = onNode.Where(p => DaemonPods.HashOf(p) != hash).ToList();
            if (oldPods.Count == 0) continue;
            if (newPod is null)
            {
                if (oldPods.All(p => !Available(p))) create.Add(node); // nothing to keep: replace at once
                else toSurge.Add(node);
            }
            else
            {
                surging++;
                if (Available(newPod)) delete.AddRange(oldPods);
            }
        }
        create.AddRange(toSurge.Take(Math.Max(0, maxSurge - surging)));
    }

    private static V1DaemonSetStatus Status(V1DaemonSet ds, HashSet<string> shouldRun, Dictionary<string, List<V1Pod>> byNode, string hash,
        int minReady, DateTime now)
    {
        int current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
        foreach (var (node, onNode) in byNode)
        {
            if (!shouldRun.Contains(node))
            {
                misscheduled++;
                continue;
            }
            current++;
            var pod = onNode.OrderByDescending(p => DaemonPods.HashOf(p) == hash).ThenBy(p => p.Metadata.CreationTimestamp).First();
            if (PodFacts.IsReady(pod)) ready++;
            if (PodFacts.IsAvailable(pod, minReady, now)) available++;
            if (DaemonPods.HashOf(pod) == hash) updated++;
        }
        return new V1DaemonSetStatus
        {
            DesiredNumberScheduled = shouldRun.Count,
            CurrentNumberScheduled = current,
            NumberMisscheduled = misscheduled,
            NumberReady = ready,
            NumberAvailable = available,
            NumberUnavailable = shouldRun.Count - available,
            UpdatedNumberScheduled = updated,
            ObservedGeneration = ds.Metadata.Generation,
            CollisionCount = ds.Status?.CollisionCount,
            Conditions = ds.Status?.Conditions,
        };
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case CreateTag c when reply.Succeeded:
                _events.Record(c.Object, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {reply.Stored!.Object.Metadata.Name}", Self);
                SendCreations(c.Owner, c.Object, _creations.Answered(c.Owner, c.Run, succeeded: true));
                break;
            case CreateTag c when StoreErrors.IsNamespaceTerminating(reply.Failed!.Error):
                // As Kubernetes: every later create would be refused the same way, and the namespace takes the DaemonSet.
                _expectations.CreationObserved(c.Owner);
                SendCreations(c.Owner, c.Object, _creations.Answered(c.Owner, c.Run, succeeded: true));
                break;
            case CreateTag c:
                _expectations.CreationObserved(c.Owner);
                _events.Record(c.Object, EventRecorder.Warning, "FailedCreate", $"Error creating: {reply.Failed!.Error.Message}", Self);
                SendCreations(c.Owner, c.Object, _creations.Answered(c.Owner, c.Run, succeeded: false));
                break;
            case DeleteTag d when reply.Succeeded:
                _events.Record(d.Object, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {d.PodName}", Self);
                break;
            case DeleteTag d:
                _expectations.DeletionObserved(d.Owner, d.PodUid);
                if (reply.Failed!.Error.Code != 404)
                    _events.Record(d.Object, EventRecorder.Warning, "FailedDelete", $"Error deleting: {reply.Failed.Error.Message}", Self);
                RequeueAfter(d.Owner, TimeSpan.FromSeconds(1));
                break;
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }
}
