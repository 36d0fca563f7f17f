using System.Net.Sockets;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Discovery;

/// <summary>discovery/v1 EndpointSlice (ValidateEndpointSlice): addressType IPv4, IPv6 or FQDN (immutable); at most
/// 1000 endpoints of 1 to 100 addresses of that type (no unspecified, loopback or link-local IPs); node names,
/// hostnames and topology labels (a loopback address only when it is a registered Node's, or in a slice of
/// <c>default/kubernetes</c>, which names the API server's address — as <see cref="Core.EndpointsStrategy"/> allows); at most 20000 ports, named uniquely (DNS-1123 labels), protocol TCP by default, UDP or
/// SCTP, appProtocol a qualified name.</summary>
internal sealed class EndpointSliceStrategy : ModelStrategy<V1EndpointSlice>
{
    private static readonly string[] AddressTypes = ["FQDN", "IPv4", "IPv6"];
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];

    public EndpointSliceStrategy() => HasGeneration = true; // 1 on create though the kind has no spec

    /// <summary>As its strategy.go: any change but of metadata bumps the generation, and so does a change of labels.</summary>
    protected override bool GenerationChanged(V1EndpointSlice slice, V1EndpointSlice old) =>
        !KubeObjects.SameJson(slice.AddressType, old.AddressType) || !KubeObjects.SameJson(slice.Endpoints, old.Endpoints)
        || !KubeObjects.SameJson(slice.Ports, old.Ports)
        || !KubeObjects.SameJson(slice.Metadata.Labels ?? new Dictionary<string, string>(), old.Metadata.Labels ?? new Dictionary<string, string>());

    protected override void Default(V1EndpointSlice slice)
    {
        foreach (var port in slice.Ports ?? [])
        {
            port.Name ??= "";
            port.Protocol ??= "TCP";
        }
    }

    protected override void Validate(V1EndpointSlice slice, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var type = slice.AddressType ?? "";
        if (type.Length == 0) causes.Add(FieldErrors.Required("addressType"));
        else if (!AddressTypes.Contains(type)) causes.Add(FieldErrors.NotSupported("addressType", type, AddressTypes));
        var apiServer = slice.Metadata?.NamespaceProperty == "default"
                        && slice.Metadata.Labels?.TryGetValue("kubernetes.io/service-name", out var service) == true && service == "kubernetes";
        ValidateEndpoints(slice.Endpoints ?? [], type, apiServer, context, causes);
        ValidatePorts(slice.Ports ?? [], causes);
    }

    protected override void ValidateUpdate(V1EndpointSlice slice, V1EndpointSlice old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(slice, context, causes);
        if (slice.AddressType != old.AddressType)
            causes.Add(FieldErrors.Invalid("addressType", slice.AddressType ?? "", "field is immutable"));
    }

    private static void ValidateEndpoints(IList<V1Endpoint> endpoints, string type, bool apiServer, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        if (endpoints.Count > 1000)
        {
            causes.Add(new StoreErrorCause("endpoints", "FieldValueTooMany", $"Too many: {endpoints.Count}: must have at most 1000 items"));
            return;
        }
        for (var i = 0; i < endpoints.Count; i++)
        {
            var endpoint = endpoints[i];
            var at = $"endpoints[{i}]";
            var addresses = endpoint.Addresses ?? [];
            if (addresses.Count == 0) causes.Add(FieldErrors.Required($"{at}.addresses", "must contain at least 1 address"));
            else if (addresses.Count > 100)
                causes.Add(new StoreErrorCause($"{at}.addresses", "FieldValueTooMany", $"Too many: {addresses.Count}: must have at most 100 items"));
            for (var j = 0; j < addresses.Count; j++) ValidateAddress(addresses[j], type, $"{at}.addresses[{j}]", apiServer, context, causes);
            if (endpoint.NodeName is { } node)
                foreach (var message in Names.Check(node, Names.Rule.Dns1123Subdomain))
                    causes.Add(FieldErrors.Invalid($"{at}.nodeName", node, message));
            if (endpoint.DeprecatedTopology is { Count: > 16 } topology)
                causes.Add(new StoreErrorCause($"{at}.deprecatedTopology", "FieldValueTooMany", $"Too many: {topology.Count}: must have at most 16 items"));
            LabelRules.ValidateLabels(endpoint.DeprecatedTopology, $"{at}.deprecatedTopology", causes);
            if (endpoint.Hostname is { } hostname)
                foreach (var message in Names.Check(hostname, Names.Rule.Dns1123Label))
                    causes.Add(FieldErrors.Invalid($"{at}.hostname", hostname, message));
        }
    }

    private static void ValidateAddress(string address, string type, string at, bool apiServer, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        switch (type)
        {
            case "IPv4" or "IPv6":
                var family = type == "IPv4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                if (!EndpointAddresses.TryParse(address, out var ip) || ip.AddressFamily != family)
                {
                    causes.Add(FieldErrors.Invalid(at, address, $"must be a valid {type} address"));
                    return;
                }
                if (System.Net.IPAddress.IsLoopback(ip) && (apiServer || EndpointAddresses.IsNodeAddress(ip, context))) break;
                foreach (var problem in EndpointAddresses.SpecialAddressProblems(ip, address))
                    causes.Add(FieldErrors.Invalid(at, address, problem));
                break;
            case "FQDN":
                if (address.Length == 0) causes.Add(FieldErrors.Required(at));
                else
                {
                    var name = address.EndsWith('.') ? address[..^1] : address;
                    foreach (var message in Names.Check(name, Names.Rule.Dns1123Subdomain))
                        causes.Add(FieldErrors.Invalid(at, address, message));
                    if (!name.Contains('.')) causes.Add(FieldErrors.Invalid(at, address, "should be a domain with at least two segments separated by dots"));
                }
                break;
        }
    }

    private static void ValidatePorts(IList<Discoveryv1EndpointPort> ports, List<StoreErrorCause> causes)
    {
        if (ports.Count > 20000)
        {
            causes.Add(new StoreErrorCause("ports", "FieldValueTooMany", $"Too many: {ports.Count}: must have at most 20000 items"));
            return;
        }
        var names = new HashSet<string>();
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports[i];
            var at = $"ports[{i}]";
            var name = port.Name ?? "";
            if (name.Length > 0)
                foreach (var message in Names.Check(name, Names.Rule.Dns1123Label))
                    causes.Add(FieldErrors.Invalid($"{at}.name", name, message));
            if (!names.Add(name)) causes.Add(FieldErrors.Duplicate($"{at}.name", name));
            if (port.Protocol is null) causes.Add(FieldErrors.Required($"{at}.protocol"));
            else if (!Protocols.Contains(port.Protocol)) causes.Add(FieldErrors.NotSupported($"{at}.protocol", port.Protocol, Protocols));
            if (port.AppProtocol is { } appProtocol)
                foreach (var message in LabelRules.CheckKey(appProtocol))
                    causes.Add(FieldErrors.Invalid($"{at}.appProtocol", appProtocol, message));
        }
    }
}
