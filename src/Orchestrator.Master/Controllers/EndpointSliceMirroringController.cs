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
/// Kubernetes' EndpointSlice mirroring controller: the Endpoints users write for a Service without a selector are
/// mirrored into EndpointSlices (<see cref="EndpointSliceMirror"/>), which is how the nodes' proxies, reading slices
/// only, reach them. No slices when the Service is gone or has a selector, the Endpoints are gone, labelled
/// skip-mirror or a leader-election lock. Owns only slices managed by the mirroring controller; never touches
/// Endpoints, Services or anyone else's slices.
/// </summary>
internal sealed class EndpointSliceMirroringController : ControllerActor
{
    private const string Services = "services";
    private const string EndpointsResource = "endpoints";
    private const string Slices = "endpointslices";

    public EndpointSliceMirroringController(IActorRef store, TimeSpan resync) : base(store, [Services, EndpointsResource, Slices], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new EndpointSliceMirroringController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.Keys(EndpointsResource)
            .Concat(Cache.List<V1EndpointSlice>(Slices).Where(Mirrored).Select(KeyOf))
            .Distinct();

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var any = (current ?? old)!;
        if (resource == Slices)
        {
            if (any is V1EndpointSlice slice && Mirrored(slice)) Enqueue(KeyOf(slice));
            return;
        }
        Enqueue(new ResourceKey(EndpointsResource, any.Metadata.NamespaceProperty, any.Metadata.Name));
    }

    protected override void Reconcile(ResourceKey key)
    {
        var stored = Cache.List<V1EndpointSlice>(Slices, key.Namespace)
            .Where(s => Mirrored(s) && s.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel] == key.Name);
        var (create, update, delete) = EndpointSliceBuilder.Writes(stored, Wanted(key), EndpointSliceMirror.SameContent, Updated);
        foreach (var slice in create) Send(new CreateObject(Slices, slice), key);
        foreach (var slice in update) Send(new UpdateObject(Slices, slice), key);
        foreach (var leftover in delete)
            SendAndForget(new DeleteObject(new ResourceKey(Slices, key.Namespace, leftover.Metadata.Name),
                PreconditionUid: leftover.Metadata.Uid));
    }

    private List<V1EndpointSlice> Wanted(ResourceKey key)
    {
        var service = Cache.Get<V1Service>(Services, key.Namespace, key.Name);
        var endpoints = Cache.Get<V1Endpoints>(EndpointsResource, key.Namespace, key.Name);
        // a Service with a selector has the EndpointSlice controller's slices; its Endpoints are not mirrored
        if (service is null || service.Spec?.Selector is { Count: > 0 } || endpoints is null
            || endpoints.Metadata.DeletionTimestamp is not null || !EndpointSliceMirror.ShouldMirror(endpoints))
            return [];
        return EndpointSliceMirror.Build(endpoints);
    }

    private static V1EndpointSlice Updated(V1EndpointSlice existing, V1EndpointSlice wanted)
    {
        var updated = KubeObjects.Clone(existing);
        updated.AddressType = wanted.AddressType;
        updated.Endpoints = wanted.Endpoints;
        updated.Ports = wanted.Ports;
        updated.Metadata.Labels = wanted.Metadata.Labels;
        updated.Metadata.Annotations = wanted.Metadata.Annotations;
        updated.Metadata.OwnerReferences = wanted.Metadata.OwnerReferences;
        return updated;
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && !reply.Succeeded)
        {
            if (reply.Failed!.Error.Code is not (409 or 404))
                Log.Warning("mirroring endpoints {0} into endpoint slices failed: {1}", key, reply.Failed.Error.Message);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
    }

    private static bool Mirrored(V1EndpointSlice slice) => EndpointSliceBuilder.ManagedByController(slice, EndpointSliceMirror.ManagedBy);

    private static ResourceKey KeyOf(V1EndpointSlice slice) =>
        new(EndpointsResource, slice.Metadata.NamespaceProperty, slice.Metadata.Labels[EndpointSliceBuilder.ServiceNameLabel]);
}
