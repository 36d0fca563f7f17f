using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.Controllers.Endpoints;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// The EndpointSlice controller: the slices of every Service with a selector, built from the Endpoints the
/// <see cref="EndpointsController"/> keeps of the selected pods (<see cref="EndpointSliceBuilder"/>); creates the missing
/// slices, updates those whose content changed, deletes the ones no longer wanted (the Service gone or without a
/// selector, its Endpoints gone). Owns only slices labelled as managed by the endpoint slice controller; selector-less
/// Services' Endpoints are the <see cref="EndpointSliceMirroringController"/>'s, and slices users create are left alone.
/// Endpoints carry their node's zone and the Service's zone hints (<see cref="TopologyHints"/>): a node's zone label
/// re-syncs the Services with endpoints on it; a change of what the Auto allocation reads (zones, readiness, CPU) re-syncs
/// every topology-mode Auto Service. Records the hint events on the Service as Kubernetes' controller does.
/// </summary>
internal sealed class EndpointSliceController : ControllerActor
{
    private const string Services = "services";
    private const string EndpointsResource = "endpoints";
    private const string Slices = "endpointslices";
    private const string Nodes = "nodes";
    public const string Component = "endpoint-slice-controller";

    private readonly EventRecorder _events;
    // Kubernetes' hintsPopulatedByService, and the last hint warning recorded per Service (recorded again only when it changes)
    private readonly HashSet<ResourceKey> _hinted = [];
    private readonly Dictionary<ResourceKey, string> _warned = [];

    public EndpointSliceController(IActorRef store, TimeSpan resync) : base(store, [Services, EndpointsResource, Slices, Nodes], resync)
    {
        _events = new EventRecorder(store, Component);
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new EndpointSliceController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.Keys(Services)
            .Concat(Cache.Keys(EndpointsResource).Select(k => k with { Resource = Services }))
            .Concat(Cache.List<V1EndpointSlice>(Slices).Where(Managed).Select(KeyOfService))
            .Distinct();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var any = (current ?? old)!;
        if (resource == Nodes)
        {
            NodeChanged(old as V1Node, current as V1Node);
            return;
        }
        if (resource == Slices)
        {
            if (any is V1EndpointSlice slice && Managed(slice)) Enqueue(KeyOfService(slice));
            return;
        }
        Enqueue(new ResourceKey(Services, any.Metadata.NamespaceProperty, any.Metadata.Name));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var service = Cache.Get<V1Service>(Services, key.Namespace, key.Name);
        var endpoints = Cache.Get<V1Endpoints>(EndpointsResource, key.Namespace, key.Name);
        var wanted = service is null || endpoints is null || service.Metadata.DeletionTimestamp is not null
                     || service.Spec?.Selector is not { Count: > 0 }
            ? []
            : EndpointSliceBuilder.Build(service, endpoints, ZoneOf);
        if (service is not null && wanted.Count > 0) RecordHints(key, service, TopologyHints.Apply(service, wanted, Capacity, out var hinted), hinted);
        else Forget(key);
        var stored = Cache.List<V1EndpointSlice>(Slices, key.Namespace)
            .Where(s => Managed(s) && s.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel] == key.Name);
        var (create, update, delete) = EndpointSliceBuilder.Writes(stored, wanted, EndpointSliceBuilder.SameContent, Updated);
        foreach (var slice in create) Send(new CreateObject(Slices, slice), key);
        foreach (var slice in update) Send(new UpdateObject(Slices, slice), key);
        foreach (var leftover in delete)
            SendAndForget(new DeleteObject(new ResourceKey(Slices, key.Namespace, leftover.Metadata.Name),
                PreconditionUid: leftover.Metadata.Uid));
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && !reply.Succeeded)
        {
            if (reply.Failed!.Error.Code is not (409 or 404))
                Log.Warning("writing endpoint slices of {0} failed: {1}", key, reply.Failed.Error.Message);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
    }

    private string? ZoneOf(string node) => ZoneCapacity.ZoneOf(Cache.Get<V1Node>(Nodes, null, node));

    // read anew for each Auto Service's pass (a handful of nodes), so no re-list of the nodes can leave it stale
    private ZoneCapacity Capacity() => ZoneCapacity.From(Cache.List<V1Node>(Nodes));

    /// <summary>A node's zone is its endpoints' zone; its zone, readiness, CPU and roles are the Auto allocation's input.</summary>
    private void NodeChanged(V1Node? old, V1Node? current)
    {
        var name = (current ?? old)!.Metadata.Name;
        if (Zone(old) != Zone(current))
            foreach (var endpoints in Cache.List<V1Endpoints>(EndpointsResource))
                if ((endpoints.Subsets ?? []).Any(s => (s.Addresses ?? []).Concat(s.NotReadyAddresses ?? []).Any(a => a.NodeName == name)))
                    Enqueue(new ResourceKey(Services, endpoints.Metadata.NamespaceProperty, endpoints.Metadata.Name));
        if (CapacityFacts(old) == CapacityFacts(current)) return;
        foreach (var service in Cache.List<V1Service>(Services).Where(TopologyHints.AutoEnabled))
            Enqueue(new ResourceKey(Services, service.Metadata.NamespaceProperty, service.Metadata.Name));

        static string? Zone(V1Node? node) => ZoneCapacity.ZoneOf(node);
        static string CapacityFacts(V1Node? node) => node is null ? "" : string.Join("|", Zone(node),
            node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status, (node.Status?.Allocatable?.TryGetValue("cpu", out var cpu) == true ? cpu?.ToString() : null),
            node.Metadata.Labels?.ContainsKey("node-role.kubernetes.io/control-plane"), node.Metadata.Labels?.ContainsKey("node-role.kubernetes.io/master"));
    }

    /// <summary>The events Kubernetes' reconciler records about hints: enabled when Auto hints first appear, disabled (with
    /// the reason) when Auto cannot hint or the annotation goes.</summary>
    private void RecordHints(ResourceKey key, V1Service service, IReadOnlyList<HintsEvent> warnings, IReadOnlyList<string> hinted)
    {
        if (hinted.Count > 0 && _hinted.Add(key))
            _events.Record(service, EventRecorder.Normal, "TopologyAwareHintsEnabled", $"Topology Aware Hints has been enabled, addressType: {hinted[0]}", Self);
        if (warnings.Count > 0)
        {
            _hinted.Remove(key);
            var message = string.Join("\n", warnings.Select(w => w.Message));
            if (_warned.GetValueOrDefault(key) != message)
                foreach (var warning in warnings) _events.Record(service, warning.Type, warning.Reason, warning.Message, Self);
            _warned[key] = message;
            return;
        }
        _warned.Remove(key);
        if (!TopologyHints.AutoEnabled(service) && _hinted.Remove(key))
            _events.Record(service, EventRecorder.Warning, "TopologyAwareHintsDisabled",
                $"Topology Aware Hints has been disabled, addressType: {service.Spec?.IpFamilies?.FirstOrDefault() ?? "IPv4"}", Self);
    }

    private void Forget(ResourceKey key)
    {
        _hinted.Remove(key);
        _warned.Remove(key);
    }

    private static V1EndpointSlice Updated(V1EndpointSlice existing, V1EndpointSlice wanted)
    {
        var updated = KubeObjects.Clone(existing);
        updated.AddressType = wanted.AddressType;
        updated.Endpoints = wanted.Endpoints;
        updated.Ports = wanted.Ports;
        updated.Metadata.Labels = wanted.Metadata.Labels;
        return updated;
    }

    private static bool Managed(V1EndpointSlice slice) => EndpointSliceBuilder.ManagedByController(slice, EndpointSliceBuilder.ManagedBy);

    private static ResourceKey KeyOfService(V1EndpointSlice slice) =>
        new(Services, slice.Metadata.NamespaceProperty, slice.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]);
}
