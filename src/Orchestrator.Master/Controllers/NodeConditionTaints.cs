using k8s.Models;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// The taints the node lifecycle controller owns, as Kubernetes 1.32's (pkg/controller/nodelifecycle): NoSchedule from
/// the node's conditions (nodeConditionToTaintKeyStatusMap: Ready False → not-ready, Ready Unknown → unreachable,
/// MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable True → memory-pressure, disk-pressure, pid-pressure,
/// network-unavailable) and from cordoning (spec.unschedulable → unschedulable), and the NoExecute not-ready or
/// unreachable taint of a NotReady node (taint-based eviction). Every other taint is a user's and left alone.
/// </summary>
internal static class NodeConditionTaints
{
    public const string NotReady = "node.kubernetes.io/not-ready";
    public const string Unreachable = "node.kubernetes.io/unreachable";
    public const string Unschedulable = "node.kubernetes.io/unschedulable";

    private static readonly (string Condition, string Status, string Key)[] NoScheduleByCondition =
    [
        ("Ready", "False", NotReady),
        ("Ready", "Unknown", Unreachable),
        ("MemoryPressure", "True", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
        ("NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"),
        ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
    ];

    /// <summary>Whether the controller owns the taint (its key and effect are one it writes).</summary>
    public static bool IsManaged(V1Taint taint) => taint.Effect switch
    {
        "NoSchedule" => taint.Key == Unschedulable || NoScheduleByCondition.Any(c => c.Key == taint.Key),
        "NoExecute" => taint.Key is NotReady or Unreachable,
        _ => false,
    };

    /// <summary>The controller's taints the node should carry (without timeAdded). <paramref name="evictionsAllowed"/>
    /// false (no node in the cluster is Ready: full disruption) leaves out the NoExecute ones.</summary>
    public static List<V1Taint> Desired(V1Node node, bool evictionsAllowed)
    {
        var conditions = node.Status?.Conditions ?? [];
        var taints = new List<V1Taint>();
        foreach (var (condition, status, key) in NoScheduleByCondition)
            if (conditions.Any(c => c.Type == condition && c.Status == status))
                taints.Add(new V1Taint { Key = key, Effect = "NoSchedule" });
        if (node.Spec?.Unschedulable == true) taints.Add(new V1Taint { Key = Unschedulable, Effect = "NoSchedule" });
        var ready = conditions.FirstOrDefault(c => c.Type == "Ready")?.Status;
        if (evictionsAllowed && ready is "False" or "Unknown")
            taints.Add(new V1Taint { Key = ready == "False" ? NotReady : Unreachable, Effect = "NoExecute" });
        return taints;
    }
}
