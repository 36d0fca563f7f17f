using k8s.Models;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>
/// Each zone's share of the cluster's allocatable CPU, as Kubernetes' topology cache (SetNodes) computes it for
/// <c>service.kubernetes.io/topology-mode: Auto</c>: over Ready nodes without a control-plane or master role label; a
/// counted node without a zone label or allocatable CPU makes the information insufficient (no ratios), and so do fewer
/// than two zones. Immutable.
/// </summary>
internal sealed class ZoneCapacity
{
    public const string ZoneLabel = "topology.kubernetes.io/zone";

    public static readonly ZoneCapacity Insufficient = new(null);

    private ZoneCapacity(IReadOnlyDictionary<string, double>? ratios) => Ratios = ratios;

    /// <summary>Zone → share of the CPU (summing to 1); null when the nodes do not tell it.</summary>
    public IReadOnlyDictionary<string, double>? Ratios { get; }

    public static ZoneCapacity From(IEnumerable<V1Node> nodes)
    {
        var milliByZone = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (var node in nodes)
        {
            var labels = node.Metadata.Labels;
            if (labels is not null && (labels.ContainsKey("node-role.kubernetes.io/control-plane") || labels.ContainsKey("node-role.kubernetes.io/master")))
                continue;
            if (node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status != "True") continue;
            var zone = ZoneOf(node);
            var cpu = MilliCpu(node);
            if (string.IsNullOrEmpty(zone) || cpu == 0) return Insufficient; // Kubernetes bails out at the first such node
            milliByZone[zone] = milliByZone.GetValueOrDefault(zone) + cpu;
            total += cpu;
        }
        if (total == 0 || milliByZone.Count < 2) return Insufficient;
        return new ZoneCapacity(milliByZone.ToDictionary(z => z.Key, z => (double)z.Value / total, StringComparer.Ordinal));
    }

    /// <summary>The node's <c>topology.kubernetes.io/zone</c> label, null when it has none.</summary>
    public static string? ZoneOf(V1Node? node) =>
        node?.Metadata?.Labels?.TryGetValue(ZoneLabel, out var zone) == true ? zone : null;

    // resource.Quantity.MilliValue rounds up; an unreadable quantity counts as none
    private static long MilliCpu(V1Node node)
    {
        if (node.Status?.Allocatable?.TryGetValue("cpu", out var cpu) != true || cpu is null) return 0;
        try
        {
            return (long)Math.Ceiling(cpu.ToDecimal() * 1000m);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return 0;
        }
    }
}
