using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 Endpoints (ValidateEndpoints): each subset has addresses or notReadyAddresses; every address a
/// valid IP that is not unspecified, loopback or link-local, with a DNS-label hostname and a DNS-subdomain node name;
/// ports valid, named when there are several, protocol TCP by default, UDP or SCTP.
/// Deviations for one machine: a loopback address is allowed when it is a registered Node's InternalIP (a hostNetwork
/// pod on a loopback node), and in <c>default/kubernetes</c>, because here the API server usually listens on loopback
/// and the nodes' proxies (on the same machine) forward the Service's ClusterIP there.</summary>
internal sealed class EndpointsStrategy : ModelStrategy<V1Endpoints>
{
    private static readonly string[] Protocols = ["SCTP", "TCP", "UDP"];

    protected override void Default(V1Endpoints endpoints)
    {
        foreach (var port in (endpoints.Subsets ?? []).SelectMany(s => s?.Ports ?? []))
            if (port is not null) port.Protocol ??= "TCP";
    }

    protected override void Validate(V1Endpoints endpoints, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var apiServer = endpoints.Metadata is { NamespaceProperty: "default", Name: "kubernetes" };
        var subsets = endpoints.Subsets ?? [];
        for (var i = 0; i < subsets.Count; i++)
        {
            var subset = subsets[i] ?? new V1EndpointSubset();
            var at = $"subsets[{i}]";
            if ((subset.Addresses ?? []).Count == 0 && (subset.NotReadyAddresses ?? []).Count == 0)
                causes.Add(FieldErrors.Required(at, "must specify `addresses` or `notReadyAddresses`"));
            ValidateAddresses(subset.Addresses, $"{at}.addresses", apiServer, context, causes);
            ValidateAddresses(subset.NotReadyAddresses, $"{at}.notReadyAddresses", apiServer, context, causes);
            var ports = subset.Ports ?? [];
            for (var j = 0; j < ports.Count; j++) ValidatePort(ports[j] ?? new Corev1EndpointPort(), ports.Count > 1, $"{at}.ports[{j}]", causes);
        }
    }

    protected override void ValidateUpdate(V1Endpoints endpoints, V1Endpoints old, IAdmissionContext context, List<StoreErrorCause> causes) =>
        Validate(endpoints, context, causes);

    private static void ValidateAddresses(IList<V1EndpointAddress>? addresses, string at, bool apiServer, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (addresses?.Count ?? 0); i++)
        {
            var address = addresses![i] ?? new V1EndpointAddress();
            var path = $"{at}[{i}]";
            var text = address.Ip ?? "";
            if (!EndpointAddresses.TryParse(text, out var ip))
                causes.Add(FieldErrors.Invalid($"{path}.ip", text, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
            else if (!(System.Net.IPAddress.IsLoopback(ip) && (apiServer || EndpointAddresses.IsNodeAddress(ip, context))))
                foreach (var problem in EndpointAddresses.SpecialAddressProblems(ip, text))
                    causes.Add(FieldErrors.Invalid($"{path}.ip", text, problem));
            if (address.Hostname is { Length: > 0 } hostname)
                foreach (var message in Names.Check(hostname, Names.Rule.Dns1123Label))
                    causes.Add(FieldErrors.Invalid($"{path}.hostname", hostname, message));
            if (address.NodeName is { } node)
                foreach (var message in Names.Check(node, Names.Rule.Dns1123Subdomain))
                    causes.Add(FieldErrors.Invalid($"{path}.nodeName", node, message));
        }
    }

    private static void ValidatePort(Corev1EndpointPort port, bool requireName, string at, List<StoreErrorCause> causes)
    {
        var name = port.Name ?? "";
        if (requireName && name.Length == 0) causes.Add(FieldErrors.Required($"{at}.name"));
        else if (name.Length > 0)
            foreach (var message in Names.Check(name, Names.Rule.Dns1123Label))
                causes.Add(FieldErrors.Invalid($"{at}.name", name, message));
        if (port.Port is < 1 or > 65535) causes.Add(FieldErrors.Invalid($"{at}.port", port.Port, PodSpecs.PortRange));
        if (string.IsNullOrEmpty(port.Protocol)) causes.Add(FieldErrors.Required($"{at}.protocol"));
        else if (!Protocols.Contains(port.Protocol)) causes.Add(FieldErrors.NotSupported($"{at}.protocol", port.Protocol, Protocols));
        if (port.AppProtocol is { } appProtocol)
            foreach (var message in LabelRules.CheckKey(appProtocol))
                causes.Add(FieldErrors.Invalid($"{at}.appProtocol", appProtocol, message));
    }
}
