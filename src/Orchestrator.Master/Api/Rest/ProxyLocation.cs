using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Rest;

/// <summary>Where a pods/proxy or services/proxy request goes: a pod's address and port, and the node that runs the
/// pod (the master relays through that node's kubelet endpoint rather than dialling the pod network itself).</summary>
internal sealed record ProxyTarget(string Scheme, string Address, int Port, string Namespace, string Pod, string Node);

/// <summary>
/// kube-apiserver 1.32's ResourceLocation for pods (pkg/registry/core/pod/strategy.go) and services
/// (pkg/registry/core/service/storage/storage.go): the id is <c>name</c>, <c>name:port</c> or <c>scheme:name:port</c>;
/// a pod without a port gets its first declared container port (else the scheme's), a pod IP that is not global
/// unicast is "address not allowed"; a service port is a name or a number, and a random ready endpoint of it is chosen.
/// </summary>
internal static class ProxyLocation
{
    /// <summary>apimachinery's SplitSchemeNamePort: one to three parts, a non-empty name, scheme "", http or https.</summary>
    public static (string Scheme, string Name, string Port)? SplitSchemeNamePort(string id)
    {
        var parts = id.Split(':');
        var (scheme, name, port) = parts switch
        {
            [var n] => ("", n, ""),
            [var n, var p] => ("", n, p),
            [var s, var n, var p] => (s, n, p),
            _ => ("", "", ""),
        };
        return name.Length > 0 && scheme is "" or "http" or "https" ? (scheme, name, port) : null;
    }

    public static async Task<ProxyTarget> PodAsync(ObjectStoreClient store, string ns, string id, CancellationToken ct)
    {
        var (scheme, name, port) = SplitSchemeNamePort(id) ?? throw ApiException.BadRequest($"invalid pod request \"{id}\"");
        var pod = (V1Pod)await store.GetAsync(CoreResources.Pods, ns, name, ct);
        return Pod(pod, scheme, port);
    }

    /// <summary>The pod's part of <see cref="PodAsync"/>, on a pod already read.</summary>
    public static ProxyTarget Pod(V1Pod pod, string scheme, string port)
    {
        if (port.Length == 0 && pod.Spec.Containers.FirstOrDefault(c => c.Ports is { Count: > 0 }) is { } declared)
            port = declared.Ports[0].ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var ip = PodIp(pod);
        if (!IPAddress.TryParse(ip, out var address) || !IsGlobalUnicast(address))
            throw ApiException.BadRequest("address not allowed");
        scheme = scheme.Length == 0 ? "http" : scheme; // the proxy handler's default (normalizeLocation)
        int number;
        if (port.Length == 0) number = scheme == "https" ? 443 : 80;
        // kube hands a non-numeric pod port to Go's dialer, which looks it up as a service name; here only numbers are ports
        else if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535)
            throw ApiException.BadRequest($"invalid port \"{port}\" for pod {pod.Metadata.Name}: a pod is proxied on a port number");
        if (string.IsNullOrEmpty(pod.Spec.NodeName))
            throw ApiException.BadRequest($"pod {pod.Metadata.Name} does not have a host assigned");
        return new ProxyTarget(scheme, address.ToString(), number, pod.Metadata.NamespaceProperty ?? "", pod.Metadata.Name, pod.Spec.NodeName);
    }

    public static async Task<ProxyTarget> ServiceAsync(ObjectStoreClient store, string ns, string id, CancellationToken ct)
    {
        var (scheme, name, port) = SplitSchemeNamePort(id) ?? throw ApiException.BadRequest($"invalid service request \"{id}\"");
        // a port number is the service port's; the endpoints name their ports as the service does
        if (long.TryParse(port, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            var service = (V1Service)await store.GetAsync(CoreResources.Services, ns, name, ct);
            port = service.Spec.Ports?.FirstOrDefault(p => p.Port == number) is { } declared
                ? declared.Name ?? ""
                : throw ApiException.Unavailable($"no service port {number} found for service \"{name}\"");
        }
        var endpoints = (V1Endpoints)await store.GetAsync(CoreResources.Endpoints, ns, name, ct);
        var subsets = endpoints.Subsets ?? [];
        if (subsets.Count == 0) throw ApiException.Unavailable($"no endpoints available for service \"{name}\"");
        var start = Random.Shared.Next(subsets.Count);
        for (var s = 0; s < subsets.Count; s++)
        {
            var subset = subsets[(start + s) % subsets.Count];
            if (subset.Addresses is not { Count: > 0 } addresses) continue;
            foreach (var endpointPort in subset.Ports ?? [])
            {
                if ((endpointPort.Name ?? "") != port) continue;
                var first = Random.Shared.Next(addresses.Count);
                for (var a = 0; a < addresses.Count; a++)
                {
                    var address = addresses[(first + a) % addresses.Count];
                    if (await EndpointPodAsync(store, ns, address, ct) is not { } pod) continue;
                    return new ProxyTarget(scheme.Length == 0 ? "http" : scheme, address.Ip, endpointPort.Port, ns, pod.Metadata.Name,
                        pod.Spec.NodeName);
                }
            }
        }
        throw ApiException.Unavailable($"no endpoints available for service \"{id}\"");
    }

    /// <summary>isValidAddress: the address must point at a pod of the service's namespace that has that IP (and, to be
    /// relayed, a node).</summary>
    private static async Task<V1Pod?> EndpointPodAsync(ObjectStoreClient store, string ns, V1EndpointAddress address, CancellationToken ct)
    {
        if (address.TargetRef is not { Kind: "Pod" } target || target.NamespaceProperty != ns || string.IsNullOrEmpty(target.Name)) return null;
        V1Pod pod;
        try
        {
            pod = (V1Pod)await store.GetAsync(CoreResources.Pods, ns, target.Name, ct);
        }
        catch (ApiException)
        {
            return null;
        }
        var ips = pod.Status?.PodIPs?.Select(p => p.Ip) ?? (pod.Status?.PodIP is { } one ? [one] : []);
        return ips.Contains(address.Ip) && !string.IsNullOrEmpty(pod.Spec.NodeName) ? pod : null;
    }

    private static string? PodIp(V1Pod pod) =>
        pod.Status?.PodIPs is { Count: > 0 } ips ? ips[0].Ip : pod.Status?.PodIP;

    /// <summary>Go's IP.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or the IPv4 broadcast address.</summary>
    internal static bool IsGlobalUnicast(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) && b[0] != 127 && b[0] is < 224 or > 239 &&
                   !(b[0] == 169 && b[1] == 254) && !(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255);
        }
        return !address.Equals(IPAddress.IPv6Any) && !IPAddress.IsLoopback(address) && !address.IsIPv6Multicast &&
               !address.IsIPv6LinkLocal;
    }
}
