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
/// </summary>
internal sealed class EndpointSliceController : ControllerActor
{
    private const string Services = "services";
    private const string EndpointsResource = "endpoints";
    private const string Slices = "endpointslices";

    public EndpointSliceController(IActorRef store, TimeSpan resync) : base(store, [Services, EndpointsResource, Slices], resync)
    {
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
            : EndpointSliceBuilder.Build(service, endpoints);
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
