using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Nodes;

/// <summary>How what a node reports is folded into what the store holds. Pure.</summary>
internal static class NodeStatusMerge
{
    /// <summary>The node's reported status with a Ready condition whose heartbeat is <paramref name="now"/>; a node
    /// that reports no Ready condition is taken to be Ready (it is talking to us).</summary>
    public static V1NodeStatus WithHeartbeat(V1NodeStatus reported, V1NodeStatus? stored, DateTime now)
    {
        var status = KubeObjects.Clone(reported);
        status.Conditions ??= new List<V1NodeCondition>();
        var ready = status.Conditions.FirstOrDefault(c => c.Type == "Ready");
        if (ready is null)
        {
            ready = new V1NodeCondition
            {
                Type = "Ready", Status = "True", Reason = "KubeletReady", Message = "kubelet is posting ready status",
            };
            status.Conditions.Add(ready);
        }
        foreach (var condition in status.Conditions)
        {
            condition.LastHeartbeatTime = now;
            var before = stored?.Conditions?.FirstOrDefault(c => c.Type == condition.Type);
            condition.LastTransitionTime ??= before is not null && before.Status == condition.Status ? before.LastTransitionTime : now;
        }
        return status;
    }

    /// <summary>True when the statuses differ in more than heartbeat times (worth writing at once).</summary>
    public static bool DiffersBeyondHeartbeat(V1NodeStatus a, V1NodeStatus? b)
    {
        if (b is null) return true;
        // the status as text without its conditions' heartbeats: serialized from a member-for-member copy whose
        // conditions are copies without them (the rest shared and only read), not from a deep copy through JSON — a
        // third of the JSON work, on every node status write's reply
        static byte[] Strip(V1NodeStatus s)
        {
            if (s.Conditions is not { } conditions) return KubeObjects.SerializeToUtf8Bytes(s);
            var copy = ShallowCopy.Of(s);
            var stripped = new List<V1NodeCondition>(conditions.Count);
            foreach (var c in conditions)
            {
                if (c is null)
                {
                    stripped.Add(c!);
                    continue;
                }
                var condition = ShallowCopy.Of(c);
                condition.LastHeartbeatTime = null;
                stripped.Add(condition);
            }
            copy.Conditions = stripped;
            return KubeObjects.SerializeToUtf8Bytes(copy);
        }
        return !Strip(a).AsSpan().SequenceEqual(Strip(b));
    }

    /// <summary>The registered node: the store's copy (keeping spec — unschedulable, taints — and the labels and
    /// annotations users added) with the node's own labels, annotations, addresses and pod range laid over it.</summary>
    public static V1Node Registered(V1Node reported, V1Node? stored)
    {
        if (stored is null)
        {
            var fresh = KubeObjects.Clone(reported);
            fresh.ApiVersion = "v1";
            fresh.Kind = "Node";
            fresh.Metadata.ResourceVersion = null;
            fresh.Metadata.Uid = null;
            return fresh;
        }
        var merged = KubeObjects.Clone(stored);
        merged.Metadata.ResourceVersion = null;
        merged.Metadata.Labels = Overlay(merged.Metadata.Labels, reported.Metadata.Labels);
        merged.Metadata.Annotations = Overlay(merged.Metadata.Annotations, reported.Metadata.Annotations);
        merged.Spec ??= new V1NodeSpec();
        // the pod range is the node's own (its --pod-cidr, which it allocates pod IPs from): what it reports wins
        if (reported.Spec?.PodCIDR is { Length: > 0 } podCidr)
        {
            merged.Spec.PodCIDR = podCidr;
            merged.Spec.PodCIDRs = reported.Spec.PodCIDRs is { Count: > 0 } cidrs ? cidrs.ToList() : [podCidr];
        }
        merged.Spec.ProviderID ??= reported.Spec?.ProviderID;
        return merged;
    }

    private static IDictionary<string, string>? Overlay(IDictionary<string, string>? under, IDictionary<string, string>? over)
    {
        if (over is null || over.Count == 0) return under;
        var result = new Dictionary<string, string>(under ?? new Dictionary<string, string>());
        foreach (var (k, v) in over) result[k] = v;
        return result;
    }

    /// <summary>The pod conditions the kubelet computes (Kubernetes' PodConditionsByKubelet but PodScheduled, which the
    /// scheduler writes here and the node does not report).</summary>
    private static readonly HashSet<string> NodeOwnedConditions = ["Ready", "ContainersReady", "Initialized", "PodReadyToStartContainers"];

    /// <summary>A pod's status as the node reports it, keeping the conditions others wrote (the scheduler's PodScheduled,
    /// a preemption's DisruptionTarget, a readiness gate's condition), as the kubelet's status manager merges its status
    /// (mergePodStatus): a condition the node reports itself replaces the stored one. Shares nothing with the stored pod.</summary>
    /// <remarks>With <paramref name="gates"/> (the pod's readinessGates) Ready also needs each gate's condition True.</remarks>
    public static V1PodStatus PodStatus(V1PodStatus reported, V1PodStatus? stored, IList<V1PodReadinessGate>? gates = null,
        DateTime? now = null)
    {
        var status = KubeObjects.Clone(reported);
        var reportedTypes = status.Conditions?.Select(c => c.Type).ToHashSet() ?? [];
        var kept = (stored?.Conditions ?? []).Where(c => !NodeOwnedConditions.Contains(c.Type) && !reportedTypes.Contains(c.Type)).ToList();
        if (kept.Count > 0) status.Conditions = kept.Select(KubeObjects.Clone).Concat(status.Conditions ?? []).ToList();
        status.QosClass ??= stored?.QosClass;
        status.StartTime ??= stored?.StartTime;
        if (gates is { Count: > 0 }) GateReadiness(status, gates, stored, now ?? DateTime.UtcNow);
        return status;
    }

    /// <summary>Kubernetes' generatePodReadyCondition for a pod with readiness gates: once its containers are ready, Ready
    /// is True only when every gate's condition (written by a controller) is True; the node knows only the containers.</summary>
    private static void GateReadiness(V1PodStatus status, IList<V1PodReadinessGate> gates, V1PodStatus? stored, DateTime now)
    {
        var conditions = status.Conditions;
        if (conditions is null || !conditions.Any(c => c.Type == "ContainersReady" && c.Status == "True")) return; // the node's reason stands
        var unready = new List<string>();
        // a null entry (JSON null in the list) is a gate with no condition type, never satisfied, not a crash of the gateway
        foreach (var type in gates.Select(g => g?.ConditionType ?? ""))
        {
            var condition = conditions.FirstOrDefault(c => c.Type == type);
            if (condition is null) unready.Add($"corresponding condition of pod readiness gate \"{type}\" does not exist.");
            else if (condition.Status != "True") unready.Add($"the status of pod readiness gate \"{type}\" is not \"True\", but {condition.Status}");
        }
        var ready = new V1PodCondition
        {
            Type = "Ready", Status = unready.Count == 0 ? "True" : "False",
            Reason = unready.Count == 0 ? null : "ReadinessGatesNotReady", Message = unready.Count == 0 ? null : string.Join(", ", unready),
        };
        var previous = stored?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        ready.LastTransitionTime = previous?.Status == ready.Status ? previous.LastTransitionTime : now;
        status.Conditions = conditions.Where(c => c.Type != "Ready").Append(ready).ToList();
    }
}
