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
                s.ObservedGeneration)
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
            Conditions = rs.Status?.Conditions,
        };
        return rs;
    }
}
