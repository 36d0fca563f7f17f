using System.Net;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>
/// The EndpointSlices that mirror a hand-written Endpoints object, as Kubernetes' EndpointSlice mirroring controller
/// makes them: subsets with the same ports and address family go into one slice (at most 1000 endpoints each), ready
/// addresses as ready endpoints and not-ready ones as not ready (no other condition is set), invalid IPs left out;
/// labels and annotations copied from the Endpoints (but its last-change trigger time and kubectl's last-applied
/// configuration), then <c>kubernetes.io/service-name</c> and the mirroring controller's managed-by label; owned by the
/// Endpoints.
/// </summary>
internal static class EndpointSliceMirror
{
    public const string ManagedBy = "endpointslicemirroring-controller.k8s.io";
    public const string SkipMirrorLabel = "endpointslice.kubernetes.io/skip-mirror";
    public const string LeaderElectionAnnotation = "control-plane.alpha.kubernetes.io/leader";
    private const int MaxEndpointsPerSlice = 1000;
    private static readonly string[] DroppedAnnotations =
        ["endpoints.kubernetes.io/last-change-trigger-time", "kubectl.kubernetes.io/last-applied-configuration"];

    /// <summary>Whether these Endpoints are mirrored at all: not labelled skip-mirror, not a leader-election lock.</summary>
    public static bool ShouldMirror(V1Endpoints endpoints) =>
        !(endpoints.Metadata.Labels?.TryGetValue(SkipMirrorLabel, out var skip) == true && skip == "true") &&
        endpoints.Metadata.Annotations?.ContainsKey(LeaderElectionAnnotation) != true;

    public static List<V1EndpointSlice> Build(V1Endpoints endpoints)
    {
        // group key: address type + ports, in the order first seen (the slices' names depend on it)
        var groups = new List<(string Key, string AddressType, List<Discoveryv1EndpointPort> Ports, List<V1Endpoint> Endpoints, HashSet<string> Seen)>();
        foreach (var subset in endpoints.Subsets ?? [])
        {
            var ports = (subset.Ports ?? []).Select(p => new Discoveryv1EndpointPort
            {
                Name = p.Name ?? "", Port = p.Port, Protocol = p.Protocol ?? "TCP", AppProtocol = p.AppProtocol,
            }).ToList();
            var portsKey = string.Join(",", ports.Select(p => $"{p.Name}/{p.Port}/{p.Protocol}/{p.AppProtocol}").Order(StringComparer.Ordinal));
            var all = (subset.Addresses ?? []).Select(a => (Address: a, Ready: true))
                .Concat((subset.NotReadyAddresses ?? []).Select(a => (Address: a, Ready: false)));
            foreach (var (address, ready) in all)
            {
                if (!IPAddress.TryParse(address.Ip, out var ip)) continue;
                var type = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
                var key = $"{type}|{portsKey}";
                var index = groups.FindIndex(g => g.Key == key);
                if (index < 0)
                {
                    groups.Add((key, type, ports, [], new HashSet<string>(StringComparer.Ordinal)));
                    index = groups.Count - 1;
                }
                var group = groups[index];
                var endpoint = new V1Endpoint
                {
                    Addresses = [ip.ToString()],
                    Conditions = new V1EndpointConditions { Ready = ready },
                    NodeName = address.NodeName,
                    Hostname = string.IsNullOrEmpty(address.Hostname) ? null : address.Hostname,
                    TargetRef = address.TargetRef,
                };
                // the same address in two subsets of one group is one endpoint (compared by JSON, in a set: a mirrored
                // Endpoints may hold thousands of addresses)
                if (group.Seen.Add(KubeObjects.Serialize(endpoint))) group.Endpoints.Add(endpoint);
            }
        }

        var slices = new List<V1EndpointSlice>();
        foreach (var group in groups)
            for (var chunk = 0; chunk * MaxEndpointsPerSlice < group.Endpoints.Count; chunk++)
                slices.Add(Slice(endpoints, group.AddressType, group.Ports,
                    group.Endpoints.Skip(chunk * MaxEndpointsPerSlice).Take(MaxEndpointsPerSlice).ToList(), $"{group.Key}#{chunk}"));
        return slices;
    }

    /// <summary>Whether a stored slice already says what the wanted one says.</summary>
    public static bool SameContent(V1EndpointSlice stored, V1EndpointSlice wanted) =>
        stored.AddressType == wanted.AddressType &&
        KubeObjects.SameJson(stored.Endpoints, wanted.Endpoints) &&
        KubeObjects.SameJson(stored.Ports, wanted.Ports) &&
        SameMap(stored.Metadata.Labels, wanted.Metadata.Labels) &&
        SameMap(stored.Metadata.Annotations, wanted.Metadata.Annotations) &&
        KubeObjects.SameJson(stored.Metadata.OwnerReferences, wanted.Metadata.OwnerReferences);

    // labels and annotations come back from the store in any order
    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static V1EndpointSlice Slice(V1Endpoints endpoints, string addressType, List<Discoveryv1EndpointPort> ports,
        List<V1Endpoint> members, string seed)
    {
        var labels = new Dictionary<string, string>(endpoints.Metadata.Labels ?? new Dictionary<string, string>())
        {
            [EndpointSliceBuilder.ServiceNameLabel] = endpoints.Metadata.Name,
            [EndpointSliceBuilder.ManagedByLabel] = ManagedBy,
        };
        var annotations = (endpoints.Metadata.Annotations ?? new Dictionary<string, string>())
            .Where(a => !DroppedAnnotations.Contains(a.Key))
            .ToDictionary(a => a.Key, a => a.Value);
        return new V1EndpointSlice
        {
            ApiVersion = ModelTypes.ApiVersionOf(typeof(V1EndpointSlice)),
            Kind = ModelTypes.KindOf(typeof(V1EndpointSlice)),
            Metadata = new V1ObjectMeta
            {
                Name = $"{endpoints.Metadata.Name}-{EndpointSliceBuilder.NameSuffix($"{endpoints.Metadata.Uid ?? endpoints.Metadata.Name}/{seed}")}",
                NamespaceProperty = endpoints.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = annotations,
                OwnerReferences = [OwnerReferences.NewControllerRef(endpoints)],
            },
            AddressType = addressType,
            Endpoints = members,
            Ports = ports,
        };
    }
}
