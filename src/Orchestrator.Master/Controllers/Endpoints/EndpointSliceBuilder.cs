using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Endpoints;

/// <summary>
/// The EndpointSlices that mirror one Service's Endpoints: one slice per subset, named after the Service with a
/// stable suffix, labelled <c>kubernetes.io/service-name</c> and managed by the endpoint slice controller, owned by the
/// Service. Ready addresses are ready and serving endpoints, not-ready addresses neither.
/// </summary>
internal static class EndpointSliceBuilder
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    public const string ManagedBy = "endpointslice-controller.k8s.io";

    public static List<V1EndpointSlice> Build(V1Service service, V1Endpoints endpoints)
    {
        var slices = new List<V1EndpointSlice>();
        var subsets = endpoints.Subsets ?? [];
        for (var i = 0; i < subsets.Count; i++)
        {
            var subset = subsets[i];
            var ready = (subset.Addresses ?? []).Select(a => Endpoint(a, true));
            var notReady = (subset.NotReadyAddresses ?? []).Select(a => Endpoint(a, false));
            var all = ready.Concat(notReady).ToList();
            if (all.Count == 0) continue;
            slices.Add(new V1EndpointSlice
            {
                ApiVersion = ModelTypes.ApiVersionOf(typeof(V1EndpointSlice)),
                Kind = ModelTypes.KindOf(typeof(V1EndpointSlice)),
                Metadata = new V1ObjectMeta
                {
                    Name = $"{service.Metadata.Name}-{Suffix(service.Metadata.Uid ?? service.Metadata.Name, i)}",
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

    private static V1Endpoint Endpoint(V1EndpointAddress address, bool ready) => new()
    {
        Addresses = [address.Ip],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = ready, Terminating = false },
        NodeName = address.NodeName,
        Hostname = address.Hostname,
        TargetRef = address.TargetRef,
    };

    private static string Suffix(string seed, int index)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{index}"));
        return string.Concat(hash.Take(5).Select(b => alphabet[b % alphabet.Length]));
    }
}
