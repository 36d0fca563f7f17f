using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Keeps the Endpoints (labelled skip-mirror) and the EndpointSlice <c>kubernetes</c> of the <c>default/kubernetes</c>
/// Service naming the API server's own address and port, as kube-apiserver's endpoints adapter does (the Service has
/// no selector, so no other controller writes them): the nodes' proxies take the Service's ClusterIP there from the
/// slice, which is how in-cluster clients reach the API.
/// </summary>
internal sealed class ApiServerEndpointsReconciler : ControllerActor
{
    private const string Endpoints = "endpoints";
    private const string Services = "services";
    private const string Slices = "endpointslices";
    private static readonly ResourceKey Key = new(Endpoints, "default", "kubernetes");
    private static readonly ResourceKey SliceKey = new(Slices, "default", "kubernetes");

    private readonly string _address;
    private readonly int _port;

    public ApiServerEndpointsReconciler(IActorRef store, TimeSpan resync, string address, int port)
        : base(store, [Services, Endpoints, Slices], resync) => (_address, _port) = (address, port);

    /// <summary><paramref name="apiAddress"/> is the address the API listens on; an unspecified one (0.0.0.0) is
    /// advertised as the machine's first non-loopback IPv4 address, as kube-apiserver picks its advertise address.</summary>
    public static Props Props(IActorRef store, TimeSpan resync, string apiAddress, int port) =>
        Akka.Actor.Props.Create(() => new ApiServerEndpointsReconciler(store, resync, AdvertiseAddress(apiAddress), port));

    internal static string AdvertiseAddress(string apiAddress)
    {
        if (apiAddress == "localhost") return "127.0.0.1";
        if (!IPAddress.TryParse(apiAddress, out var ip)) return apiAddress;
        if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)) return ip.ToString();
        var host = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return (host ?? IPAddress.Loopback).ToString();
    }

    protected override IEnumerable<ResourceKey> AllKeys() => [Key];

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if ((current ?? old)?.Metadata is { NamespaceProperty: "default", Name: "kubernetes" }) Enqueue(Key);
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(new ResourceKey(Services, "default", "kubernetes")) is not V1Service) return;
        var subsets = new List<V1EndpointSubset>
        {
            new()
            {
                Addresses = [new V1EndpointAddress { Ip = _address }],
                Ports = [new Corev1EndpointPort { Name = "https", Port = _port, Protocol = "TCP" }],
            },
        };
        var existing = Cache.Get(Key) as V1Endpoints;
        if (existing is null)
        {
            Send(new CreateObject(Endpoints, new V1Endpoints
            {
                ApiVersion = "v1", Kind = "Endpoints",
                Metadata = new V1ObjectMeta
                {
                    Name = "kubernetes", NamespaceProperty = "default",
                    Labels = new Dictionary<string, string> { ["endpointslice.kubernetes.io/skip-mirror"] = "true" },
                },
                Subsets = subsets,
            }), key);
            ReconcileSlice(key);
            return;
        }
        if (!KubeObjects.SameJson(existing.Subsets, subsets))
        {
            var updated = KubeObjects.Clone(existing);
            updated.Subsets = subsets;
            Send(new UpdateObject(Endpoints, updated, null), key);
        }
        ReconcileSlice(key);
    }

    private void ReconcileSlice(ResourceKey key)
    {
        var labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "kubernetes" };
        var endpoints = new List<V1Endpoint> { new() { Addresses = [_address], Conditions = new V1EndpointConditions { Ready = true } } };
        var ports = new List<Discoveryv1EndpointPort> { new() { Name = "https", Port = _port, Protocol = "TCP" } };
        var addressType = IPAddress.TryParse(_address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
        if (Cache.Get(SliceKey) is not V1EndpointSlice existing)
        {
            Send(new CreateObject(Slices, new V1EndpointSlice
            {
                ApiVersion = "discovery.k8s.io/v1", Kind = "EndpointSlice",
                Metadata = new V1ObjectMeta { Name = "kubernetes", NamespaceProperty = "default", Labels = labels },
                AddressType = addressType, Endpoints = endpoints, Ports = ports,
            }), key);
            return;
        }
        if (existing.AddressType != addressType)
        {
            // addressType is immutable: a slice of the other family goes, and the next pass makes the right one
            SendAndForget(new DeleteObject(SliceKey, PreconditionUid: existing.Metadata.Uid));
            return;
        }
        if (KubeObjects.SameJson(existing.Endpoints, endpoints) && KubeObjects.SameJson(existing.Ports, ports)
            && KubeObjects.SameJson(existing.Metadata.Labels, labels)) return;
        var updated = KubeObjects.Clone(existing);
        updated.Endpoints = endpoints;
        updated.Ports = ports;
        updated.Metadata.Labels = labels;
        Send(new UpdateObject(Slices, updated, null), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code is not 409)
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        base.OnStoreReplied(reply);
    }
}
