using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.ReplicaSets;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>Keeps each apps/v1 ReplicaSet's pod count at spec.replicas (the loop is <see cref="ReplicaControllerBase"/>).</summary>
internal sealed class ReplicaSetController : ReplicaControllerBase
{
    public const string Component = "replicaset-controller";

    public ReplicaSetController(IActorRef store, TimeSpan resync)
        : base(store, "replicasets", "ReplicaSet", Component, resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new ReplicaSetController(store, resync));

    protected override ReplicaOwner Describe(IKubernetesObject<V1ObjectMeta> owner)
    {
        var rs = (V1ReplicaSet)owner;
        return new ReplicaOwner(rs, LabelSelector.FromLabelSelector(rs.Spec?.Selector), rs.Spec?.Template,
            rs.Spec?.Replicas ?? 1, rs.Spec?.MinReadySeconds ?? 0);
    }

    protected override ReplicaCounts? CurrentCounts(IKubernetesObject<V1ObjectMeta> owner) =>
        ((V1ReplicaSet)owner).Status is { } s
            ? new ReplicaCounts(s.Replicas, s.FullyLabeledReplicas ?? 0, s.ReadyReplicas ?? 0, s.AvailableReplicas ?? 0,
                s.ObservedGeneration,
                s.Conditions?.FirstOrDefault(c => c.Type == ReplicaFailure.ConditionType) is { } f ? new ReplicaFailure(f.Reason ?? "", f.Message ?? "") : null)
            : null;

    protected override IKubernetesObject<V1ObjectMeta> WithCounts(IKubernetesObject<V1ObjectMeta> owner, ReplicaCounts counts)
    {
        var rs = KubeObjects.Clone((V1ReplicaSet)owner);
        rs.Status = new V1ReplicaSetStatus
        {
            Replicas = counts.Replicas,
            FullyLabeledReplicas = counts.FullyLabeledReplicas,
            ReadyReplicas = counts.ReadyReplicas,
            AvailableReplicas = counts.AvailableReplicas,
            ObservedGeneration = counts.ObservedGeneration,
            Conditions = WithFailure(rs.Status?.Conditions, counts.Failure),
        };
        return rs;
    }

    private static IList<V1ReplicaSetCondition>? WithFailure(IList<V1ReplicaSetCondition>? conditions, ReplicaFailure? failure)
    {
        var kept = (conditions ?? []).Where(c => c.Type != ReplicaFailure.ConditionType).ToList();
        if (failure is not null)
            kept.Add(conditions?.FirstOrDefault(c => c.Type == ReplicaFailure.ConditionType && c.Reason == failure.Reason && c.Message == failure.Message)
                     ?? new V1ReplicaSetCondition
                     {
                         Type = ReplicaFailure.ConditionType, Status = "True", Reason = failure.Reason, Message = failure.Message,
                         LastTransitionTime = DateTime.UtcNow,
                     });
        return kept.Count == 0 ? null : kept;
    }
}
