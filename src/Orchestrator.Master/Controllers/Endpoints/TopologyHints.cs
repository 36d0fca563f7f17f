using k8s.Models;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>An event the hints of a Service's slices call for (Kubernetes' topologycache.EventBuilder).</summary>
internal sealed record HintsEvent(string Type, string Reason, string Message);

/// <summary>
/// The zone hints on a Service's freshly built EndpointSlices, as Kubernetes 1.32's EndpointSlice reconciler sets them.
/// <c>service.kubernetes.io/topology-mode: Auto</c> (or the deprecated <c>service.kubernetes.io/topology-aware-hints</c>,
/// which wins when both are set) takes the topology cache's proportional allocation (<see cref="ZoneHintAllocation"/>);
/// otherwise <c>spec.trafficDistribution: PreferClose</c> hints every ready endpoint that has a zone for its own zone
/// (the trafficdist heuristic: endpoints without a zone get no hint, the others keep theirs); otherwise no hints.
/// Works in place on slices that are not the cache's.
/// </summary>
internal static class TopologyHints
{
    public const string TopologyModeAnnotation = "service.kubernetes.io/topology-mode";
    public const string DeprecatedTopologyAwareHintsAnnotation = "service.kubernetes.io/topology-aware-hints";
    public const string PreferClose = "PreferClose";

    /// <summary>Kubernetes' hintsEnabled: the deprecated annotation when present, else topology-mode, is Auto or auto.</summary>
    public static bool AutoEnabled(V1Service service)
    {
        var annotations = service.Metadata?.Annotations;
        if (annotations is null) return false;
        if (!annotations.TryGetValue(DeprecatedTopologyAwareHintsAnnotation, out var value)
            && !annotations.TryGetValue(TopologyModeAnnotation, out value)) return false;
        return value is "Auto" or "auto";
    }

    /// <summary>Sets the hints of <paramref name="slices"/> (all of one Service). Auto: per address type, the allocation
    /// or, when it cannot be made, no hints and the warning that says why (the address types whose hints were set are
    /// in <paramref name="hinted"/>).</summary>
    public static IReadOnlyList<HintsEvent> Apply(V1Service service, IReadOnlyList<V1EndpointSlice> slices, Func<ZoneCapacity> capacity,
        out IReadOnlyList<string> hinted)
    {
        var events = new List<HintsEvent>();
        var types = new List<string>();
        hinted = types;
        if (AutoEnabled(service))
        {
            var zones = capacity();
            foreach (var group in slices.GroupBy(s => s.AddressType).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                if (ZoneHintAllocation.Allocate(group.ToList(), zones) is { } disabled)
                    events.Add(disabled with { Message = $"{disabled.Message}, addressType: {group.Key}" });
                else types.Add(group.Key);
            }
            return events;
        }
        var preferClose = service.Spec?.TrafficDistribution == PreferClose;
        foreach (var endpoint in slices.SelectMany(s => s.Endpoints ?? []))
        {
            if (!preferClose) endpoint.Hints = null;
            else if (Ready(endpoint))
                endpoint.Hints = string.IsNullOrEmpty(endpoint.Zone) ? null : ForZone(endpoint.Zone);
        }
        return events;
    }

    internal static bool Ready(V1Endpoint endpoint) => endpoint.Conditions?.Ready == true;

    internal static V1EndpointHints ForZone(string zone) => new() { ForZones = [new V1ForZone { Name = zone }] };
}
