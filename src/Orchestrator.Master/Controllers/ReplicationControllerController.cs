using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>Keeps each core/v1 ReplicationController's pod count at spec.replicas (the loop is
/// <see cref="ReplicaControllerBase"/>).</summary>
internal sealed class ReplicationControllerController : ReplicaControllerBase
{
    public const string Component = "replication-controller";

    public ReplicationControllerController(IActorRef store, TimeSpan resync)
        : base(store, "replicationcontrollers", "ReplicationController", Component, resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new ReplicationControllerController(store, resync));

    protected override ReplicaOwner Describe(IKubernetesObject<V1ObjectMeta> owner)
    {
        var rc = (V1ReplicationController)owner;
        // The API defaults an empty selector to the template's labels; do the same in case it was not.
        var selector = rc.Spec?.Selector is { Count: > 0 } s ? s : rc.Spec?.Template?.Metadata?.Labels;
        return new ReplicaOwner(rc, LabelSelector.FromMap(selector), rc.Spec?.Template, rc.Spec?.Replicas ?? 1,
            rc.Spec?.MinReadySeconds ?? 0);
    }

    protected override ReplicaCounts? CurrentCounts(IKubernetesObject<V1ObjectMeta> owner) =>
        ((V1ReplicationController)owner).Status is { } s
            ? new ReplicaCounts(s.Replicas, s.FullyLabeledReplicas ?? 0, s.ReadyReplicas ?? 0, s.AvailableReplicas ?? 0,
                s.ObservedGeneration,
                s.Conditions?.FirstOrDefault(c => c.Type == ReplicaFailure.ConditionType) is { } f ? new ReplicaFailure(f.Reason ?? "", f.Message ?? "") : null)
            : null;

    protected override IKubernetesObject<V1ObjectMeta> WithCounts(IKubernetesObject<V1ObjectMeta> owner, ReplicaCounts counts)
    {
        var rc = KubeObjects.Clone((V1ReplicationController)owner);
        rc.Status = new V1ReplicationControllerStatus
        {
            Replicas = counts.Replicas,
            FullyLabeledReplicas = counts.FullyLabeledReplicas,
            ReadyReplicas = counts.ReadyReplicas,
            AvailableReplicas = counts.AvailableReplicas,
            ObservedGeneration = counts.ObservedGeneration,
            Conditions = WithFailure(rc.Status?.Conditions, counts.Failure),
        };
        return rc;
    }

    private static IList<V1ReplicationControllerCondition>? WithFailure(IList<V1ReplicationControllerCondition>? conditions, ReplicaFailure? failure)
    {
        var kept = (conditions ?? []).Where(c => c.Type != ReplicaFailure.ConditionType).ToList();
        if (failure is not null)
            kept.Add(conditions?.FirstOrDefault(c => c.Type == ReplicaFailure.ConditionType && c.Reason == failure.Reason && c.Message == failure.Message)
                     ?? new V1ReplicationControllerCondition
                     {
                         Type = ReplicaFailure.ConditionType, Status = "True", Reason = failure.Reason, Message = failure.Message,
                         LastTransitionTime = DateTime.UtcNow,
                     });
        return kept.Count == 0 ? null : kept;
    }
}
