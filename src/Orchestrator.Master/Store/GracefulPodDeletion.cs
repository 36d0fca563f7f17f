using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store;

/// <summary>
/// Kubernetes' graceful pod deletion, the store's half: a delete of a pod that runs on a node (bound, not
/// Succeeded/Failed) with a grace period above 0 only marks it — deletionTimestamp = now + grace and
/// deletionGracePeriodSeconds = grace — so the node can stop its containers (preStop, SIGTERM, wait, SIGKILL).
/// The NodeGateway removes it (a delete with grace 0) once the node reports the containers stopped. A second
/// delete may shorten the grace period, never lengthen it; grace 0 (kubectl --force --grace-period=0, the
/// controllers) removes it at once. Null plans nothing here (the ordinary delete applies).
/// </summary>
internal static class GracefulPodDeletion
{
    public static WritePlan? Plan(V1Pod pod, long? requestedGrace)
    {
        var grace = requestedGrace ?? pod.Spec?.TerminationGracePeriodSeconds ?? 30;
        if (grace <= 0 || string.IsNullOrEmpty(pod.Spec?.NodeName) || pod.Status?.Phase is "Succeeded" or "Failed") return null;
        if (pod.Metadata.DeletionGracePeriodSeconds is { } current && pod.Metadata.DeletionTimestamp is not null && current <= grace)
            return WritePlan.Unchanged(pod);
        var marked = KubeObjects.Clone(pod);
        marked.Metadata.DeletionTimestamp = WritePlanner.NowSeconds().AddSeconds(grace);
        marked.Metadata.DeletionGracePeriodSeconds = grace;
        return WritePlan.One(new PlannedWrite("pods", marked));
    }

    /// <summary>The node's report that ends a graceful deletion: no container of the pod runs any more.</summary>
    public static bool Stopped(V1PodStatus status) =>
        status.ContainerStatuses is not { } statuses || statuses.All(s => s.State?.Running is null);
}
