using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Keeps the Endpoints (labelled skip-mirror) and the EndpointSlices of the <c>default/kubernetes</c> Service naming
/// the API servers' addresses and ports, as kube-apiserver's lease endpoint reconciler does (the Service has no
/// selector, so no other controller writes them): the nodes' proxies take the Service's ClusterIP there from the
/// slices, which is how in-cluster clients reach the API. One master: its own address. Several: every master that is
/// Up and reachable in the cluster (each announces its API as a role, <see cref="MasterApiRole"/>), so a master that
/// is downed, removed or unreachable leaves the list at once. Addresses are sorted and deduplicated, so an unchanged
/// membership writes nothing. Endpoints put one subset per port; slices, whose ports hold for all their endpoints, are
/// one per address family and port: <c>kubernetes</c> for this master's, <c>kubernetes-PORT[-ipv6]</c> for others.
/// </summary>
internal sealed class ApiServerEndpointsReconciler : ControllerActor
{
    private const string Endpoints = "endpoints";
    private const string Services = "services";
    private const string Slices = "endpointslices";
    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private static readonly ResourceKey Key = new(Endpoints, "default", "kubernetes");
    private static readonly ResourceKey SliceKey = new(Slices, "default", "kubernetes");

    private readonly ApiServerAddress _self;
    private readonly bool _fromMembership;
    private readonly ClusterMemberView _members = new();
    private IReadOnlyList<ApiServerAddress> _servers;

    public ApiServerEndpointsReconciler(IActorRef store, TimeSpan resync, string address, int port, bool fromMembership)
        : base(store, [Services, Endpoints, Slices], resync)
    {
        _self = new ApiServerAddress(address, port);
        _fromMembership = fromMembership;
        _servers = [_self];
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            _members.Reset(state);
            MembershipChanged();
        });
        Receive<ClusterEvent.IClusterDomainEvent>(e =>
        {
            _members.Apply(e);
            MembershipChanged();
        });
    }

    /// <summary><paramref name="apiAddress"/> is the address the API listens on; an unspecified one (0.0.0.0) is
    /// advertised as the machine's first non-loopback IPv4 address, as kube-apiserver picks its advertise address.
    /// <paramref name="fromMembership"/>: several masters, listed from the cluster's members.</summary>
    public static Props Props(IActorRef store, TimeSpan resync, string apiAddress, int port, bool fromMembership = false) =>
        Akka.Actor.Props.Create(() => new ApiServerEndpointsReconciler(store, resync, AdvertiseAddress(apiAddress), port, fromMembership));

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

    /// <summary>The API servers to list, from the members' roles: masters that are Up and reachable and announce an
    /// API at an IP address, sorted (IPv4 first, then by address bytes and port) and each once; never empty
    /// (<paramref name="self"/> when none is found, as while this master's own role is not yet seen).</summary>
    internal static IReadOnlyList<ApiServerAddress> LiveApiServers(
        IEnumerable<(IEnumerable<string> Roles, bool UpAndReachable)> members, ApiServerAddress self)
    {
        var found = new SortedSet<ApiServerAddress>(ApiServerAddress.Order);
        foreach (var (roles, live) in members)
        {
            var list = roles as ICollection<string> ?? roles.ToList();
            if (!live || !list.Contains(NodeProtocolNames.MasterRole) || MasterApiRole.Of(list) is not { } api) continue;
            if (IPAddress.TryParse(AdvertiseAddress(api.Host), out var ip)) found.Add(new ApiServerAddress(ip.ToString(), api.Port));
        }
        return found.Count > 0 ? [.. found] : [self];
    }

    protected override void PreStart()
    {
        base.PreStart();
        if (_fromMembership)
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop()
    {
        if (_fromMembership) Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
    }

    private void MembershipChanged()
    {
        var servers = LiveApiServers(_members.Members.Select(m => ((IEnumerable<string>)m.Roles, _members.UpAndReachable(m))), _self);
        if (servers.SequenceEqual(_servers)) return;
        Log.Info("API servers of the kubernetes Service: {0}", string.Join(", ", servers));
        _servers = servers;
        if (Synced) Enqueue(Key); // else the first sync reconciles it
    }

    protected override IEnumerable<ResourceKey> AllKeys() => [Key];

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if ((current ?? old)?.Metadata is { NamespaceProperty: "default" } meta
            && (meta.Name == "kubernetes" || ForKubernetesService(meta)))
            Enqueue(Key);
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(new ResourceKey(Services, "default", "kubernetes")) is not V1Service) return;
        // one subset per port (the addresses of a subset share all its ports)
        var subsets = _servers.GroupBy(s => s.Port).OrderBy(g => g.Key).Select(g => new V1EndpointSubset
        {
            Addresses = g.Select(s => new V1EndpointAddress { Ip = s.Ip }).ToList(),
            Ports = [new Corev1EndpointPort { Name = "https", Port = g.Key, Protocol = "TCP" }],
        }).ToList();
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
        }
        else if (!KubeObjects.SameJson(existing.Subsets, subsets))
        {
            var updated = KubeObjects.Clone(existing);
            updated.Subsets = subsets;
            Send(new UpdateObject(Endpoints, updated, null), key);
        }
        ReconcileSlices(key);
    }

    /// <summary>One slice per address family and port; the one holding this master's port is <c>kubernetes</c>.</summary>
    internal static IReadOnlyList<(string Name, string AddressType, int Port, List<string> Addresses)> SlicesFor(
        IReadOnlyList<ApiServerAddress> servers, ApiServerAddress self)
    {
        var groups = servers.GroupBy(s => (Family: AddressTypeOf(s.Ip), s.Port))
            .Select(g => (g.Key.Family, g.Key.Port, Addresses: g.Select(s => s.Ip).ToList()))
            .ToList();
        var own = groups.FindIndex(g => g.Family == AddressTypeOf(self.Ip) && g.Port == self.Port);
        if (own < 0) own = 0;
        return groups.Select((g, i) => (i == own ? "kubernetes" : $"kubernetes-{g.Port}{(g.Family == "IPv6" ? "-ipv6" : "")}", g.Family, g.Port, g.Addresses))
            .ToList();
    }

    private static bool ForKubernetesService(V1ObjectMeta meta) =>
        meta.Labels is { } labels && labels.TryGetValue(ServiceNameLabel, out var service) && service == "kubernetes";

    private static string AddressTypeOf(string ip) =>
        IPAddress.TryParse(ip, out var parsed) && parsed.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private void ReconcileSlices(ResourceKey key)
    {
        var wanted = SlicesFor(_servers, _self);
        foreach (var slice in wanted) ReconcileSlice(key, slice.Name, slice.AddressType, slice.Port, slice.Addresses);
        // slices of ports and families no longer listed go (ours only: named kubernetes-…, labelled for the Service)
        foreach (var stale in Cache.List<V1EndpointSlice>(Slices, "default"))
            if (stale.Metadata is { NamespaceProperty: "default" } meta && meta.Name.StartsWith("kubernetes-", StringComparison.Ordinal)
                && ForKubernetesService(meta) && wanted.All(w => w.Name != meta.Name))
                SendAndForget(new DeleteObject(new ResourceKey(Slices, "default", meta.Name), PreconditionUid: meta.Uid));
    }

    private void ReconcileSlice(ResourceKey key, string name, string addressType, int port, List<string> addresses)
    {
        var labels = new Dictionary<string, string> { [ServiceNameLabel] = "kubernetes" };
        var endpoints = addresses.Select(a => new V1Endpoint { Addresses = [a], Conditions = new V1EndpointConditions { Ready = true } }).ToList();
        var ports = new List<Discoveryv1EndpointPort> { new() { Name = "https", Port = port, Protocol = "TCP" } };
        var sliceKey = new ResourceKey(Slices, "default", name);
        if (Cache.Get(sliceKey) is not V1EndpointSlice existing)
        {
            Send(new CreateObject(Slices, new V1EndpointSlice
            {
                ApiVersion = "discovery.k8s.io/v1", Kind = "EndpointSlice",
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = labels },
                AddressType = addressType, Endpoints = endpoints, Ports = ports,
            }), key);
            return;
        }
        if (existing.AddressType != addressType)
        {
            // addressType is immutable: a slice of the other family goes, and the next pass makes the right one
            SendAndForget(new DeleteObject(sliceKey, PreconditionUid: existing.Metadata.Uid));
            RequeueAfter(key, TimeSpan.FromSeconds(1));
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

/// <summary>One API server in the kubernetes Service's endpoints.</summary>
internal sealed record ApiServerAddress(string Ip, int Port)
{
    public override string ToString() => Ip.Contains(':') ? $"[{Ip}]:{Port}" : $"{Ip}:{Port}";

    /// <summary>IPv4 before IPv6, then by the address's bytes, then by port.</summary>
    public static IComparer<ApiServerAddress> Order { get; } = Comparer<ApiServerAddress>.Create((a, b) =>
    {
        var x = IPAddress.Parse(a.Ip).GetAddressBytes();
        var y = IPAddress.Parse(b.Ip).GetAddressBytes();
        var c = x.Length.CompareTo(y.Length);
        if (c == 0) c = ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
        return c != 0 ? c : a.Port.CompareTo(b.Port);
    });
}

/// <summary>
/// The cluster's members as the events delivered to one subscriber tell them: the initial snapshot, then each member
/// and reachability event applied in order. Reading <c>Cluster.State</c> when an event arrives is not the same: that
/// view is updated by another actor from the same events, possibly after this one (a master moved to Up was then
/// still Joining there, and with no later event it stayed missing from the kubernetes Endpoints).
/// </summary>
internal sealed class ClusterMemberView
{
    private readonly Dictionary<UniqueAddress, Member> _members = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];

    public IEnumerable<Member> Members => _members.Values;

    public bool UpAndReachable(Member member) => member.Status == MemberStatus.Up && !_unreachable.Contains(member.UniqueAddress);

    public void Reset(ClusterEvent.CurrentClusterState state)
    {
        _members.Clear();
        _unreachable.Clear();
        foreach (var member in state.Members) _members[member.UniqueAddress] = member;
        foreach (var member in state.Unreachable) _unreachable.Add(member.UniqueAddress);
    }

    public void Apply(ClusterEvent.IClusterDomainEvent change)
    {
        switch (change)
        {
            case ClusterEvent.MemberRemoved removed:
                _members.Remove(removed.Member.UniqueAddress);
                _unreachable.Remove(removed.Member.UniqueAddress);
                break;
            case ClusterEvent.IMemberEvent member:
                _members[member.Member.UniqueAddress] = member.Member;
                break;
            case ClusterEvent.UnreachableMember unreachable:
                _unreachable.Add(unreachable.Member.UniqueAddress);
                break;
            case ClusterEvent.ReachableMember reachable:
                _unreachable.Remove(reachable.Member.UniqueAddress);
                break;
        }
    }
}
