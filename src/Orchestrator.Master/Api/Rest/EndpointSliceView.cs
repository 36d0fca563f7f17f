using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Responses;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Registry.Kinds.Discovery;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// discovery.k8s.io/v1 EndpointSlices as a read-only view of the stored Endpoints (one slice per subset,
/// labelled kubernetes.io/service-name). kubectl 1.32 <c>describe service</c> reads its endpoints from slices,
/// not from Endpoints, so without this view it would always print <c>Endpoints: &lt;none&gt;</c>.
/// </summary>
internal sealed class EndpointSliceView(ObjectStoreClient store, ApiResponses responses) : IResourceView
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    public static ResourceDescription Definition => DiscoveryResources.EndpointSlices;

    public ResourceDescription Resource => Definition;

    public async Task HandleAsync(HttpContext context, RequestInfo info)
    {
        if (context.Request.Method != "GET" || info.Subresource is not null) throw ApiException.MethodNotAllowed(context.Request.Method);
        var listed = await store.ListAsync(CoreResources.Endpoints, info.Namespace, context.RequestAborted);
        var slices = listed.Items.OfType<V1Endpoints>().SelectMany(From).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();
        if (info.Name is { } name)
        {
            var slice = slices.FirstOrDefault(s => s.Metadata.Name == name) ?? throw ApiException.NotFound(Definition, name);
            await responses.WriteObjectAsync(context, Definition, slice);
            return;
        }
        if (QueryParameters.Bool(context, "watch"))
            throw ApiException.MethodNotAllowed("watch");
        var query = ListQuery.From(context, Definition);
        var (page, metadata) = query.Select(new Store.ObjectsListed(slices, listed.ResourceVersion));
        await responses.WriteListAsync(context, Definition, page, metadata);
    }

    public static IEnumerable<V1EndpointSlice> From(V1Endpoints endpoints)
    {
        var subsets = endpoints.Subsets ?? [];
        for (var i = 0; i < subsets.Count; i++)
        {
            var subset = subsets[i];
            var ready = (subset.Addresses ?? []).Select(a => Endpoint(a, true));
            var notReady = (subset.NotReadyAddresses ?? []).Select(a => Endpoint(a, false));
            var all = ready.Concat(notReady).ToList();
            yield return new V1EndpointSlice
            {
                ApiVersion = Definition.GroupVersion,
                Kind = Definition.Kind,
                Metadata = new V1ObjectMeta
                {
                    Name = $"{endpoints.Metadata.Name}-{Suffix(endpoints.Metadata.Uid ?? endpoints.Metadata.Name, i)}",
                    NamespaceProperty = endpoints.Metadata.NamespaceProperty,
                    CreationTimestamp = endpoints.Metadata.CreationTimestamp,
                    ResourceVersion = endpoints.Metadata.ResourceVersion,
                    Labels = new Dictionary<string, string>
                    {
                        [ServiceNameLabel] = endpoints.Metadata.Name,
                        ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io",
                    },
                },
                AddressType = all.Any(e => e.Addresses[0].Contains(':')) ? "IPv6" : "IPv4",
                Endpoints = all,
                // kubectl describe matches ports by name, so an unnamed port must carry "" rather than no name.
                Ports = (subset.Ports ?? []).Select(p => new Discoveryv1EndpointPort
                {
                    Name = p.Name ?? "", Port = p.Port, Protocol = p.Protocol ?? "TCP", AppProtocol = p.AppProtocol,
                }).ToList(),
            };
        }
    }

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
