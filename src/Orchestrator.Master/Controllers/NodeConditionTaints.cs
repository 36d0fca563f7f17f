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

    /// <summary>The controller's taints the node should carry (without timeAdded): the NoSchedule ones of its conditions
    /// and cordon, and <paramref name="noExecute"/> (not-ready or unreachable, which the controller decides: a NotReady
    /// node gets it when its zone's rate lets it through) with effect NoExecute.</summary>
    public static List<V1Taint> Desired(V1Node node, string? noExecute)
    {
        var conditions = node.Status?.Conditions ?? [];
        var taints = new List<V1Taint>();
        foreach (var (condition, status, key) in NoScheduleByCondition)
            if (conditions.Any(c => c.Type == condition && c.Status == status))
                taints.Add(new V1Taint { Key = key, Effect = "NoSchedule" });
        if (node.Spec?.Unschedulable == true) taints.Add(new V1Taint { Key = Unschedulable, Effect = "NoSchedule" });
        if (noExecute is not null) taints.Add(new V1Taint { Key = noExecute, Effect = "NoExecute" });
        return taints;
    }

    /// <summary>The NoExecute taint a node's Ready status calls for: not-ready for False, unreachable for Unknown.</summary>
    public static string? NoExecuteFor(string? readyStatus) => readyStatus switch
    {
        "False" => NotReady,
        "Unknown" => Unreachable,
        _ => null,
    };

    public static bool Has(V1Node node, string key, string effect) =>
        node.Spec?.Taints?.Any(t => t?.Key == key && t.Effect == effect) == true;
}
