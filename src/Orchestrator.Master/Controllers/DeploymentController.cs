using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.Deployments;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Runs Deployments (Kubernetes' deployment controller): keeps one ReplicaSet per pod template, named
/// <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c> and controlled by the Deployment, moves replicas from old
/// ReplicaSets to the current one by the Deployment's strategy (<see cref="RolloutPlanner"/>), trims revision
/// history, and writes the Deployment's revision annotation and status. Records ScalingReplicaSet events.
/// Owns ReplicaSet specs and Deployment status; never touches pods (the ReplicaSet loop does).
/// </summary>
internal sealed class DeploymentController : ControllerActor
{
    public const string Component = "deployment-controller";
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    private const int MaxRevisionHistoryChars = 2000;
    private const string Deployments = "deployments";
    private const string ReplicaSets = "replicasets";
    private static readonly TimeSpan CreateWait = TimeSpan.FromSeconds(10);

    // Annotations of the Deployment that are not copied to its ReplicaSets (Kubernetes' skipCopyAnnotation).
    private static readonly HashSet<string> NotCopied =
    [
        "kubectl.kubernetes.io/last-applied-configuration", RevisionAnnotation, RevisionHistoryAnnotation,
        DesiredReplicasAnnotation, MaxReplicasAnnotation, "deprecated.deployment.rollback.to",
    ];

    private readonly EventRecorder _events;
    private readonly Dictionary<ResourceKey, (string Name, DateTime Since)> _creating = new();

    private sealed record CreateTag(ResourceKey Deployment, V1Deployment Object, string Name, int Replicas);

    private sealed record ScaleTag(ResourceKey Deployment, V1Deployment Object, string Name, int From, int To);

    public DeploymentController(IActorRef store, TimeSpan resync) : base(store, [Deployments, ReplicaSets], resync)
    {
        _events = new EventRecorder(store, Component);
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new DeploymentController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Deployments);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Deployments)
        {
            Enqueue(ObjectCache.KeyOf(resource, (current ?? old)!));
            return;
        }
        foreach (var rs in new[] { old, current })
        {
            if (rs is null || OwnerReferences.ControllerOf(rs) is not { Kind: "Deployment" } owner) continue;
            var key = new ResourceKey(Deployments, rs.Metadata.NamespaceProperty, owner.Name);
            if (old is null && _creating.TryGetValue(key, out var c) && c.Name == rs.Metadata.Name) _creating.Remove(key);
            Enqueue(key);
        }
    }

    protected override void Reconcile(ResourceKey key)
    {
        var d = Cache.Get<V1Deployment>(key.Resource, key.Namespace, key.Name);
        if (d is null)
        {
            _creating.Remove(key);
            return;
        }
        if (d.Metadata.DeletionTimestamp is not null) return; // the garbage collector takes the ReplicaSets away
        if (_creating.TryGetValue(key, out var creating) && DateTime.UtcNow - creating.Since < CreateWait) return;
        _creating.Remove(key);

        var now = DateTime.UtcNow.AddTicks(-(DateTime.UtcNow.Ticks % TimeSpan.TicksPerSecond)); // API times have seconds
        var owned = Cache.List<V1ReplicaSet>(ReplicaSets, key.Namespace).Where(rs => OwnerReferences.IsControlledBy(rs, d)).ToList();
        var hash = PodTemplateHash.Compute(d.Spec.Template, d.Status?.CollisionCount);
        var newRs = owned.Where(rs => PodTemplateHash.EqualIgnoringHash(rs.Spec?.Template, d.Spec.Template))
                        .OrderBy(rs => rs.Metadata.CreationTimestamp ?? DateTime.MinValue).FirstOrDefault()
                    ?? owned.FirstOrDefault(rs => rs.Metadata.Name == $"{d.Metadata.Name}-{hash}");
        var olds = owned.Where(rs => !ReferenceEquals(rs, newRs)).ToList();
        var revision = olds.Select(Revision).DefaultIfEmpty(0).Max() + 1;
        var paused = d.Spec.Paused == true;
        var (maxSurge, _) = RolloutPlanner.Bounds(d);
        var desired = RolloutPlanner.DesiredReplicas(d);

        // Paused: no rollout, but `kubectl scale` still applies when the current ReplicaSet is the only one running.
        var plan = paused
            ? new RolloutPlan(newRs is not null && olds.All(rs => (rs.Spec?.Replicas ?? 0) == 0) ? desired : newRs?.Spec?.Replicas ?? 0,
                new Dictionary<string, int>())
            : RolloutPlanner.Plan(d, newRs, olds);
        var planned = owned.ToDictionary(rs => rs.Metadata.Name, rs => rs.Spec?.Replicas ?? 0);
        var justCreated = false;

        if (newRs is null && !paused && !(RolloutPlanner.IsRecreate(d) && olds.Any(rs => (rs.Status?.Replicas ?? 0) > 0)))
        {
            newRs = NewReplicaSet(d, hash, plan.NewReplicas, revision, desired + maxSurge);
            _creating[key] = (newRs.Metadata.Name, DateTime.UtcNow);
            Send(new CreateObject(ReplicaSets, newRs), new CreateTag(key, d, newRs.Metadata.Name, plan.NewReplicas));
            justCreated = true;
            owned.Add(newRs);
        }
        else if (newRs is not null && !paused)
        {
            var newRevision = Math.Max(Revision(newRs), revision);
            var annotations = new Dictionary<string, string>
            {
                [RevisionAnnotation] = newRevision.ToString(),
                [DesiredReplicasAnnotation] = desired.ToString(),
                [MaxReplicasAnnotation] = (desired + maxSurge).ToString(),
            };
            if (RevisionHistory(newRs, newRevision) is { } history) annotations[RevisionHistoryAnnotation] = history;
            Scale(key, d, newRs, plan.NewReplicas, annotations);
            revision = newRevision;
        }
        else if (newRs is not null && plan.NewReplicas != (newRs.Spec?.Replicas ?? 0))
            Scale(key, d, newRs, plan.NewReplicas, new Dictionary<string, string>
            {
                [DesiredReplicasAnnotation] = desired.ToString(),
                [MaxReplicasAnnotation] = (desired + maxSurge).ToString(),
            });
        if (newRs is not null) planned[newRs.Metadata.Name] = plan.NewReplicas;

        foreach (var (name, to) in plan.OldReplicas)
        {
            Scale(key, d, olds.First(rs => rs.Metadata.Name == name), to,
                new Dictionary<string, string> { [DesiredReplicasAnnotation] = desired.ToString() });
            planned[name] = to;
        }

        // The revision annotation goes through /status with the status, as kube-controller-manager's UpdateStatus:
        // an update of the main resource would bump the generation (annotations count for a Deployment's).
        var annotate = newRs is not null && !(d.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var current) == true && current == revision.ToString());
        var status = DeploymentStatusCalculator.Calculate(d, newRs, owned, planned, justCreated, now);
        if (annotate || KubeObjects.Serialize(status) != KubeObjects.Serialize(d.Status ?? new V1DeploymentStatus()))
        {
            var withStatus = KubeObjects.Clone(d);
            withStatus.Status = status;
            if (annotate)
            {
                withStatus.Metadata.Annotations ??= new Dictionary<string, string>();
                withStatus.Metadata.Annotations[RevisionAnnotation] = revision.ToString();
            }
            else withStatus.Metadata.ResourceVersion = null; // status has one writer: this loop
            SendAndForget(new UpdateObject(Deployments, withStatus, "status"));
        }

        // Level-triggered, but nothing changes when a rollout stalls: look again when its deadline passes.
        if (DeploymentStatusCalculator.UntilDeadline(d, status, now) is { } left) RequeueAfter(key, left + TimeSpan.FromSeconds(1));

        if (!paused) CleanupHistory(d, olds, planned);
    }

    /// <summary>When a ReplicaSet that had a revision becomes the new one again with a higher revision (a rollback to
    /// its template), its former revision joins <c>deployment.kubernetes.io/revision-history</c>, oldest first and at
    /// most 2000 characters, as Kubernetes' SetNewReplicaSetAnnotations keeps it; null when nothing is added.</summary>
    internal static string? RevisionHistory(V1ReplicaSet rs, int newRevision)
    {
        if (rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var oldText) != true || !int.TryParse(oldText, out var old) ||
            old >= newRevision)
            return null;
        var history = rs.Metadata.Annotations.TryGetValue(RevisionHistoryAnnotation, out var h) ? h : "";
        if (history.Length == 0) return oldText;
        var revisions = history.Split(',').ToList();
        var total = history.Length + oldText!.Length + 1;
        while (total > MaxRevisionHistoryChars && revisions.Count > 0)
        {
            total -= revisions[0].Length + 1;
            revisions.RemoveAt(0);
        }
        revisions.Add(oldText);
        return string.Join(",", revisions);
    }

    private void Scale(ResourceKey key, V1Deployment d, V1ReplicaSet rs, int to, IDictionary<string, string> annotations)
    {
        var from = rs.Spec?.Replicas ?? 0;
        var current = rs.Metadata.Annotations ?? new Dictionary<string, string>();
        if (from == to && annotations.All(a => current.TryGetValue(a.Key, out var v) && v == a.Value)) return;

        var scaled = KubeObjects.Clone(rs);
        scaled.Spec.Replicas = to;
        scaled.Metadata.Annotations = new Dictionary<string, string>(current);
        foreach (var (k, v) in annotations) scaled.Metadata.Annotations[k] = v;
        Send(new UpdateObject(ReplicaSets, scaled), new ScaleTag(key, d, rs.Metadata.Name, from, to));
    }

    private static V1ReplicaSet NewReplicaSet(V1Deployment d, string hash, int replicas, int revision, int maxReplicas)
    {
        var template = PodTemplateHash.WithHashLabel(d.Spec.Template, hash);
        var selector = KubeObjects.Clone(d.Spec.Selector ?? new V1LabelSelector());
        selector.MatchLabels = new Dictionary<string, string>(selector.MatchLabels ?? new Dictionary<string, string>())
        {
            [PodTemplateHash.LabelKey] = hash,
        };
        var annotations = (d.Metadata.Annotations ?? new Dictionary<string, string>())
            .Where(a => !NotCopied.Contains(a.Key)).ToDictionary(a => a.Key, a => a.Value);
        annotations[RevisionAnnotation] = revision.ToString();
        annotations[DesiredReplicasAnnotation] = RolloutPlanner.DesiredReplicas(d).ToString();
        annotations[MaxReplicasAnnotation] = maxReplicas.ToString();
        return new V1ReplicaSet
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Metadata = new V1ObjectMeta
            {
                Name = $"{d.Metadata.Name}-{hash}",
                NamespaceProperty = d.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>(template.Metadata.Labels),
                Annotations = annotations,
                OwnerReferences = [OwnerReferences.NewControllerRef(d)],
            },
            Spec = new V1ReplicaSetSpec
            {
                Replicas = replicas,
                MinReadySeconds = d.Spec.MinReadySeconds,
                Selector = selector,
                Template = template,
            },
        };
    }

    // Old ReplicaSets scaled to zero beyond revisionHistoryLimit go, oldest first.
    private void CleanupHistory(V1Deployment d, IReadOnlyList<V1ReplicaSet> olds, IReadOnlyDictionary<string, int> planned)
    {
        var limit = d.Spec.RevisionHistoryLimit ?? 10;
        var idle = olds.Where(rs => planned[rs.Metadata.Name] == 0 && (rs.Status?.Replicas ?? 0) == 0 && rs.Metadata.DeletionTimestamp is null)
            .OrderBy(Revision).ThenBy(rs => rs.Metadata.CreationTimestamp ?? DateTime.MinValue).ToList();
        foreach (var rs in idle.Take(Math.Max(0, idle.Count - limit)))
            SendAndForget(new DeleteObject(new ResourceKey(ReplicaSets, rs.Metadata.NamespaceProperty, rs.Metadata.Name),
                PreconditionUid: rs.Metadata.Uid));
    }

    private static int Revision(V1ReplicaSet rs) =>
        rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var r) == true && int.TryParse(r, out var n) ? n : 0;

    protected override void OnStoreReplied(StoreReplied reply)
    {
        switch (reply.Tag)
        {
            case CreateTag c when reply.Succeeded:
                if (c.Replicas > 0)
                    _events.Record(c.Object, EventRecorder.Normal, "ScalingReplicaSet",
                        $"Scaled up replica set {c.Name} from 0 to {c.Replicas}", Self);
                break;
            case CreateTag c:
                _creating.Remove(c.Deployment);
                if (reply.Failed!.Error.Code == 409) BumpCollisionCountIfTaken(c);
                else Log.Warning("creating replica set {0} failed: {1}", c.Name, reply.Failed.Error.Message);
                RequeueAfter(c.Deployment, TimeSpan.FromSeconds(1));
                break;
            case ScaleTag s when reply.Succeeded:
                if (s.From != s.To)
                    _events.Record(s.Object, EventRecorder.Normal, "ScalingReplicaSet",
                        $"Scaled {(s.To > s.From ? "up" : "down")} replica set {s.Name} from {s.From} to {s.To}", Self);
                break;
            case ScaleTag s:
                RequeueAfter(s.Deployment, TimeSpan.FromSeconds(1)); // a conflict: the feed brings the newer object
                break;
            default:
                base.OnStoreReplied(reply);
                break;
        }
    }

    // A ReplicaSet of that name that is not ours: Kubernetes bumps status.collisionCount so the next hash differs.
    private void BumpCollisionCountIfTaken(CreateTag c)
    {
        var existing = Cache.Get<V1ReplicaSet>(ReplicaSets, c.Deployment.Namespace, c.Name);
        var d = Cache.Get<V1Deployment>(Deployments, c.Deployment.Namespace, c.Deployment.Name);
        if (existing is null || d is null || OwnerReferences.IsControlledBy(existing, d)) return;
        var bumped = KubeObjects.Clone(d);
        bumped.Status ??= new V1DeploymentStatus();
        bumped.Status.CollisionCount = (bumped.Status.CollisionCount ?? 0) + 1;
        SendAndForget(new UpdateObject(Deployments, bumped, "status"));
    }
}
