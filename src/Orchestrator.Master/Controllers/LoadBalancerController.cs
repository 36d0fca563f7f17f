using System.Net;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Controllers.LoadBalancers;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Gives each LoadBalancer Service without a loadBalancerClass an address of the <see cref="LoadBalancerPool"/>
/// (spec.loadBalancerIP when it is in the pool and free) and writes it to status.loadBalancer.ingress[].ip, as k3s'
/// ServiceLB and MetalLB do; the nodes' proxies then serve the Service's ports there. A Service with another
/// loadBalancerClass belongs to another controller and is left alone. The address is released — the status cleared —
/// when the Service stops being a LoadBalancer, and with the Service when it is deleted. Which addresses are in use is
/// read from the Services' status (level-triggered), plus the writes still in flight.
/// </summary>
internal sealed class LoadBalancerController : ControllerActor
{
    private const string Services = "services";
    private readonly LoadBalancerPool _pool;
    private readonly EventRecorder _events;
    // written but not yet seen back in the cache: no second Service may get them meanwhile
    private readonly Dictionary<ResourceKey, IPAddress> _inFlight = new();

    public LoadBalancerController(IActorRef store, LoadBalancerPool pool, TimeSpan resync) : base(store, [Services], resync)
    {
        _pool = pool;
        _events = new EventRecorder(store, "service-lb-controller");
    }

    public static Props Props(IActorRef store, LoadBalancerPool pool, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new LoadBalancerController(store, pool, resync));

    // the oldest first, so that after a restart two Services claiming one address resolve as before
    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1Service>(Services).OrderBy(s => s.Metadata.CreationTimestamp).Select(s => ObjectCache.KeyOf(Services, s)).ToList();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var key = ObjectCache.KeyOf(resource, (current ?? old)!);
        _inFlight.Remove(key);
        if (current is null && old is V1Service gone && AddressesOf(gone).Count > 0)
            foreach (var waiting in Waiting()) Enqueue(waiting); // released: a Service waiting for an address may get it
        Enqueue(key);
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1Service service) return;
        var current = AddressesOf(service);
        if (!Served(service))
        {
            // another class's LoadBalancer keeps what its controller wrote; any other type loses its address
            if (service.Spec?.Type != "LoadBalancer" && current.Count > 0) WriteStatus(service, key, null);
            return;
        }
        var used = UsedByOthers(key);
        var requested = service.Spec?.LoadBalancerIP;
        var keep = current.FirstOrDefault(ip => _pool.Contains(ip) && !used.Contains(ip)
                                                && (string.IsNullOrEmpty(requested) || ip.ToString() == requested));
        if (keep is not null)
        {
            if (current.Count > 1) WriteStatus(service, key, keep);
            return;
        }
        var (address, problem) = _pool.Allocate(used, requested);
        if (address is null)
        {
            _events.Record(service, EventRecorder.Warning, "AllocationFailed", $"Failed to allocate IP for \"{key.Namespace}/{key.Name}\": {problem}", Self);
            if (current.Count > 0) WriteStatus(service, key, null);
            return;
        }
        _events.Record(service, EventRecorder.Normal, "IPAllocated", $"Assigned IP [\"{address}\"]", Self);
        WriteStatus(service, key, address);
    }

    /// <summary>Ours: a LoadBalancer Service without a loadBalancerClass (Kubernetes' default load balancer).</summary>
    internal static bool Served(V1Service service) =>
        service.Spec?.Type == "LoadBalancer" && string.IsNullOrEmpty(service.Spec.LoadBalancerClass) && service.Metadata.DeletionTimestamp is null;

    private static List<IPAddress> AddressesOf(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => IPAddress.TryParse(i.Ip, out var ip) ? ip : null).OfType<IPAddress>().ToList();

    private HashSet<IPAddress> UsedByOthers(ResourceKey key)
    {
        var used = new HashSet<IPAddress>();
        foreach (var other in Cache.List<V1Service>(Services).Where(Served).Where(s => ObjectCache.KeyOf(Services, s) != key))
            used.UnionWith(AddressesOf(other).Where(_pool.Contains));
        used.UnionWith(_inFlight.Where(kv => kv.Key != key).Select(kv => kv.Value));
        return used;
    }

    private IEnumerable<ResourceKey> Waiting() =>
        Cache.List<V1Service>(Services).Where(s => Served(s) && AddressesOf(s).Count == 0)
            .OrderBy(s => s.Metadata.CreationTimestamp).Select(s => ObjectCache.KeyOf(Services, s)).ToList();

    private void WriteStatus(V1Service service, ResourceKey key, IPAddress? address)
    {
        var updated = KubeObjects.Clone(service);
        updated.Status ??= new V1ServiceStatus();
        updated.Status.LoadBalancer = new V1LoadBalancerStatus
        {
            Ingress = address is null ? null : [new V1LoadBalancerIngress { Ip = address.ToString(), IpMode = "VIP" }],
        };
        if (address is not null) _inFlight[key] = address;
        else _inFlight.Remove(key);
        Send(new UpdateObject(Services, updated, "status"), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // a conflict or a failure: the next reconcile reads the Service again
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed)
        {
            _inFlight.Remove(key);
            if (failed.Error.Code != 404) RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
        base.OnStoreReplied(reply);
    }
}
