using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Scheduling.Framework;

namespace Orchestrator.Master.Scheduling.Filters;

/// <summary>
/// The ReadWriteOncePod part of Kubernetes' VolumeRestrictions plugin: a claim with that access mode is used by one
/// pod at a time, so while another scheduled pod uses it, the pod fits no node.
/// </summary>
internal sealed class ReadWriteOncePodFilter(IVolumeLookup volumes) : ISkippableFilter, ISchedulingNodesPreFilter
{
    public const string Conflict = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

    public string Name => "VolumeRestrictions";

    public string? PreFilter(V1Pod pod, IReadOnlyList<NodeInfo> nodes)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var exclusive = VolumeFacts.Claims(pod)
            .Where(c => volumes.Claim(ns, c.ClaimName)?.Spec?.AccessModes?.Contains("ReadWriteOncePod") == true)
            .Select(c => c.ClaimName).ToHashSet();
        if (exclusive.Count == 0) return null;
        var used = nodes.SelectMany(n => n.Pods)
            .Any(other => other.Metadata.Uid != pod.Metadata.Uid && (other.Metadata.NamespaceProperty ?? "default") == ns
                          && other.Status?.Phase is not ("Succeeded" or "Failed")
                          && VolumeFacts.Claims(other).Any(c => exclusive.Contains(c.ClaimName)));
        return used ? Conflict : null;
    }

    /// <summary>The decision is the pre-filter's, for all nodes at once.</summary>
    public string? Filter(V1Pod pod, NodeInfo node) => null;

    public bool Skips(V1Pod pod) => true;
}
