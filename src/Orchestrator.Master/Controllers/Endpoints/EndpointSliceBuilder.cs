using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>
/// The EndpointSlices that mirror one Service's Endpoints: one slice per subset, named after the Service with a
/// stable suffix, labelled <c>kubernetes.io/service-name</c> and managed by the endpoint slice controller, owned by the
/// Service. Ready addresses are ready and serving endpoints, not-ready addresses neither. Each endpoint's zone is its
/// node's <c>topology.kubernetes.io/zone</c> label (none when the node is unknown or unlabelled); hints are
/// <see cref="TopologyHints"/>'.
/// </summary>
internal static class EndpointSliceBuilder
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    public const string ManagedBy = "endpointslice-controller.k8s.io";

    public static List<V1EndpointSlice> Build(V1Service service, V1Endpoints endpoints, Func<string, string?>? zoneOfNode = null)
    {
        zoneOfNode ??= _ => null;
        var slices = new List<V1EndpointSlice>();
        var subsets = endpoints.Subsets ?? [];
        for (var i = 0; i < subsets.Count; i++)
        {
            var subset = subsets[i];
            var ready = (subset.Addresses ?? []).Select(a => Endpoint(a, true, zoneOfNode));
            var notReady = (subset.NotReadyAddresses ?? []).Select(a => Endpoint(a, false, zoneOfNode));
            var all = ready.Concat(notReady).ToList();
            if (all.Count == 0) continue;
            slices.Add(new V1EndpointSlice
            {
                ApiVersion = ModelTypes.ApiVersionOf(typeof(V1EndpointSlice)),
                Kind = ModelTypes.KindOf(typeof(V1EndpointSlice)),
                Metadata = new V1ObjectMeta
                {
                    Name = $"{service.Metadata.Name}-{NameSuffix($"{service.Metadata.Uid ?? service.Metadata.Name}/{i}")}",
                    NamespaceProperty = service.Metadata.NamespaceProperty,
                    Labels = new Dictionary<string, string>
                    {
                        [ServiceNameLabel] = service.Metadata.Name,
                        [ManagedByLabel] = ManagedBy,
                    },
                    OwnerReferences = [OwnerReferences.NewControllerRef(service)],
                },
                AddressType = all.Any(e => e.Addresses[0].Contains(':')) ? "IPv6" : "IPv4",
                Endpoints = all,
                // kubectl describe matches ports by name, so an unnamed port must carry "" rather than no name.
                Ports = (subset.Ports ?? []).Select(p => new Discoveryv1EndpointPort
                {
                    Name = p.Name ?? "", Port = p.Port, Protocol = p.Protocol ?? "TCP", AppProtocol = p.AppProtocol,
                }).ToList(),
            });
        }
        return slices;
    }

    /// <summary>Whether a stored slice already says what the wanted one says.</summary>
    public static bool SameContent(V1EndpointSlice stored, V1EndpointSlice wanted) =>
        stored.AddressType == wanted.AddressType &&
        KubeObjects.SameJson(stored.Endpoints, wanted.Endpoints) &&
        KubeObjects.SameJson(stored.Ports, wanted.Ports) &&
        KubeObjects.SameJson(stored.Metadata.Labels, wanted.Metadata.Labels);

    private static V1Endpoint Endpoint(V1EndpointAddress address, bool ready, Func<string, string?> zoneOfNode) => new()
    {
        Addresses = [address.Ip],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = ready, Terminating = false },
        NodeName = address.NodeName,
        Zone = string.IsNullOrEmpty(address.NodeName) ? null : zoneOfNode(address.NodeName) is { Length: > 0 } zone ? zone : null,
        Hostname = address.Hostname,
        TargetRef = address.TargetRef,
    };

    /// <summary>Five characters of generateName's alphabet derived from <paramref name="seed"/>: stable, so a
    /// level-triggered pass finds the slices it made (Kubernetes uses generateName's random five).</summary>
    public static string NameSuffix(string seed)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        return string.Concat(hash.Take(5).Select(b => alphabet[b % alphabet.Length]));
    }

    /// <summary>A slice of some Service's managed by <paramref name="manager"/> (the managed-by label's value).</summary>
    public static bool ManagedByController(V1EndpointSlice slice, string manager) =>
        slice.Metadata.Labels?.TryGetValue(ManagedByLabel, out var by) == true && by == manager &&
        slice.Metadata.Labels.ContainsKey(ServiceNameLabel);

    /// <summary>The writes that turn a Service's <paramref name="stored"/> slices into the <paramref name="wanted"/>
    /// ones, matched by name: create the missing, update (<paramref name="update"/> of the stored one) those whose
    /// content differs, delete the rest.</summary>
    public static (List<V1EndpointSlice> Create, List<V1EndpointSlice> Update, List<V1EndpointSlice> Delete) Writes(
        IEnumerable<V1EndpointSlice> stored, IEnumerable<V1EndpointSlice> wanted,
        Func<V1EndpointSlice, V1EndpointSlice, bool> sameContent, Func<V1EndpointSlice, V1EndpointSlice, V1EndpointSlice> update)
    {
        var byName = stored.ToDictionary(s => s.Metadata.Name);
        var (create, updates) = (new List<V1EndpointSlice>(), new List<V1EndpointSlice>());
        foreach (var slice in wanted)
        {
            if (!byName.Remove(slice.Metadata.Name, out var existing)) create.Add(slice);
            else if (!sameContent(existing, slice)) updates.Add(update(existing, slice));
        }
        return (create, updates, byName.Values.ToList());
    }
}
