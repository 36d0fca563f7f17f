using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>
/// Kubernetes' topology cache (AddHints) for one address type of a topology-mode Auto Service: each zone should get
/// ready endpoints in proportion to its share of allocatable CPU (<see cref="ZoneCapacity"/>), and no zone fewer than
/// its share divided by 1.2 (the overload threshold). Every ready endpoint is first hinted for its own zone, then zones
/// with more than their share give endpoints to zones with less. No hints at all (and a warning) when the nodes do not
/// tell the zones' CPU, when there are fewer ready endpoints than zones, when the minimums cannot all be met, or when
/// a ready endpoint has no zone. Kubernetes keeps valid hints of unchanged slices and walks Go maps in random order;
/// this recomputes every slice and walks zones by name, so equal inputs give equal hints.
/// </summary>
internal static class ZoneHintAllocation
{
    private const double OverloadThreshold = 0.2;

    public const string NoZoneSpecified = "One or more endpoints do not have a zone specified";
    public const string NoAllocatedHintsForZones = "No hints allocated for zones";
    public const string InsufficientNodeInfo = "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes";
    public const string NodesReadyInOneZoneOnly = "Nodes only ready in one zone";
    public const string InsufficientNumberOfEndpoints = "Insufficient number of endpoints";
    public const string MinAllocationExceedsOverloadThreshold =
        "Unable to allocate minimum required endpoints to each zone without exceeding overload threshold";

    private sealed record Allocation(int Minimum, double Desired);

    /// <summary>Hints <paramref name="slices"/> (one address type) in place; null when hinted, else the warning (hints removed).</summary>
    public static HintsEvent? Allocate(IReadOnlyList<V1EndpointSlice> slices, ZoneCapacity capacity)
    {
        var endpoints = slices.SelectMany(s => s.Endpoints ?? []).ToList();
        var ready = endpoints.Where(TopologyHints.Ready).ToList();
        var (allocations, refused) = Allocations(capacity.Ratios, ready.Count);
        if (refused is not null) return Disabled(endpoints, refused);
        if (ready.Any(e => string.IsNullOrEmpty(e.Zone))) return Disabled(endpoints, NoZoneSpecified);

        // 1: every ready endpoint for its own zone
        var allocated = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            if (!TopologyHints.Ready(endpoint))
            {
                endpoint.Hints = null;
                continue;
            }
            allocated[endpoint.Zone!] = allocated.GetValueOrDefault(endpoint.Zone!) + 1;
            endpoint.Hints = TopologyHints.ForZone(endpoint.Zone!);
        }
        // 2 and 3: zones above their share give endpoints to zones below it
        var (giving, receiving) = GivingAndReceiving(allocations!, allocated);
        foreach (var endpoint in ready)
        {
            if (giving.Count == 0 || receiving.Count == 0) break;
            if (giving.GetValueOrDefault(endpoint.Zone!) <= 0) continue;
            var to = receiving.First(r => r.Value > 0).Key;
            endpoint.Hints = TopologyHints.ForZone(to);
            Take(giving, endpoint.Zone!);
            Take(receiving, to);
        }
        return allocated.Count == 0 ? Disabled(endpoints, NoAllocatedHintsForZones) : null;
    }

    private static HintsEvent Disabled(List<V1Endpoint> endpoints, string message)
    {
        foreach (var endpoint in endpoints) endpoint.Hints = null;
        return new HintsEvent(EventRecorder.Warning, "TopologyAwareHintsDisabled", message);
    }

    private static void Take(SortedDictionary<string, int> zones, string zone)
    {
        if (zones[zone] == 1) zones.Remove(zone);
        else zones[zone]--;
    }

    /// <summary>getAllocations: each zone's minimum and desired number of endpoints, or why there are none.</summary>
    private static (SortedDictionary<string, Allocation>?, string?) Allocations(IReadOnlyDictionary<string, double>? ratios, int endpoints)
    {
        if (ratios is null) return (null, InsufficientNodeInfo);
        if (ratios.Count < 2) return (null, NodesReadyInOneZoneOnly); // as Kubernetes: ZoneCapacity already refuses one zone
        if (ratios.Count > endpoints) return (null, $"{InsufficientNumberOfEndpoints} ({endpoints} endpoints, {ratios.Count} zones)");
        var remaining = endpoints;
        var allocations = new SortedDictionary<string, Allocation>(StringComparer.Ordinal);
        foreach (var (zone, ratio) in ratios.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var desired = ratio * endpoints;
            var minimum = (int)Math.Ceiling(desired * (1 / (1 + OverloadThreshold)));
            allocations[zone] = new Allocation(minimum, Math.Max(desired, minimum));
            remaining -= minimum;
            if (remaining < 0) return (null, $"{MinAllocationExceedsOverloadThreshold} ({endpoints} endpoints, {ratios.Count} zones)");
        }
        return (allocations, null);
    }

    /// <summary>getGivingAndReceivingZones: whole endpoints each zone gives or receives, the largest gaps first, while
    /// a gap is at least half an endpoint and one of the two at least a whole one.</summary>
    private static (SortedDictionary<string, int> Giving, SortedDictionary<string, int> Receiving) GivingAndReceiving(
        SortedDictionary<string, Allocation> allocations, SortedDictionary<string, int> allocated)
    {
        var givingDesired = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var receivingDesired = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (zone, allocation) in allocations)
        {
            double hints = allocated.GetValueOrDefault(zone);
            if (hints > allocation.Desired) givingDesired[zone] = hints - allocation.Desired;
            else if (hints < allocation.Desired) receivingDesired[zone] = allocation.Desired - hints;
        }
        var giving = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var receiving = new SortedDictionary<string, int>(StringComparer.Ordinal);
        while (true)
        {
            var (givingZone, toGive) = Most(givingDesired);
            var (receivingZone, toReceive) = Most(receivingDesired);
            if (givingZone == "" || receivingZone == "" || (toGive < 1.0 && toReceive < 1.0) || toGive < 0.5 || toReceive < 0.5) break;
            giving[givingZone] = giving.GetValueOrDefault(givingZone) + 1;
            givingDesired[givingZone]--;
            receiving[receivingZone] = receiving.GetValueOrDefault(receivingZone) + 1;
            receivingDesired[receivingZone]--;
        }
        return (giving, receiving);
    }

    private static (string Zone, double Value) Most(SortedDictionary<string, double> zones)
    {
        var (most, value) = ("", 0.0);
        foreach (var (zone, n) in zones)
            if (n > value) (most, value) = (zone, n);
        return (most, value);
    }
}
