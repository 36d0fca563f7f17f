using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>One node selector requirement against a node's labels (or fields), as Kubernetes evaluates it: In, NotIn,
/// Exists, DoesNotExist, and Gt/Lt on integers. Shared by the scheduler, the DaemonSet controller and volume affinity.</summary>
internal static class NodeSelectorRequirements
{
    public static bool Matches(V1NodeSelectorRequirement requirement, IDictionary<string, string> labels)
    {
        var has = labels.TryGetValue(requirement.Key, out var value);
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            "In" => has && values.Contains(value!),
            "NotIn" => !has || !values.Contains(value!),
            "Exists" => has,
            "DoesNotExist" => !has,
            "Gt" => has && long.TryParse(value, out var v) && values.Count == 1 && long.TryParse(values[0], out var gt) && v > gt,
            "Lt" => has && long.TryParse(value, out var w) && values.Count == 1 && long.TryParse(values[0], out var lt) && w < lt,
            _ => false,
        };
    }
}
