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
/// Keeps, for every Service with a selector, an Endpoints object of the same name listing the selected pods'
/// addresses and the Service's resolved ports (<see cref="EndpointsBuilder"/>); writes only when that changes,
/// and deletes the Endpoints when its Service is deleted. Services without a selector are left to their users.
/// Owns Endpoints of selector Services; never touches Services or pods.
/// As in Kubernetes, an Endpoints that never had a Service is its user's: one made before its Service (a manifest
/// listing it first), or a leader-election lock (client libraries' EndpointsLock). Only the leftovers found when the
/// controller starts are deleted, and never one holding a leader-election record.
/// </summary>
internal sealed class EndpointsController : ControllerActor
{
    private const string Services = "services";
    private const string Pods = "pods";
    private const string EndpointsResource = "endpoints";

    /// <summary>The annotation in which client-go's and the client libraries' Endpoints locks keep the leader's record.</summary>
    internal const string LeaderAnnotation = "control-plane.alpha.kubernetes.io/leader";

    // Names whose Service was seen deleted, or whose Endpoints had no Service when the controller started: the only
    // Endpoints without a Service it deletes.
    private readonly HashSet<ResourceKey> _serviceGone = new();

    public EndpointsController(IActorRef store, TimeSpan resync) : base(store, [Services, Pods, EndpointsResource], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new EndpointsController(store, resync));

    // Every Service, plus the names whose Endpoints wait to be deleted.
    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Services).Concat(_serviceGone).Distinct();

    protected override void OnSynced()
    {
        foreach (var endpoints in Cache.List<V1Endpoints>(EndpointsResource))
        {
            var key = new ResourceKey(Services, endpoints.Metadata.NamespaceProperty, endpoints.Metadata.Name);
            if (Cache.Get(key) is null && endpoints.Metadata.Annotations?.ContainsKey(LeaderAnnotation) != true)
                _serviceGone.Add(key);
        }
    }

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        var any = (current ?? old)!;
        switch (resource)
        {
            case Services:
            case EndpointsResource:
                var key = new ResourceKey(Services, any.Metadata.NamespaceProperty, any.Metadata.Name);
                if (resource == Services && current is null) _serviceGone.Add(key);
                Enqueue(key);
                break;
            case Pods:
                foreach (var service in Cache.List<V1Service>(Services, any.Metadata.NamespaceProperty))
                {
                    var selector = LabelSelector.FromMap(service.Spec?.Selector);
                    if ((old is not null && selector.Matches(old.Metadata.Labels)) ||
                        (current is not null && selector.Matches(current.Metadata.Labels)))
                        Enqueue(ObjectCache.KeyOf(Services, service));
                }
                break;
        }
    }

    protected override void Reconcile(ResourceKey key)
    {
        var service = Cache.Get<V1Service>(Services, key.Namespace, key.Name);
        var stored = Cache.Get<V1Endpoints>(EndpointsResource, key.Namespace, key.Name);
        if (service is null)
        {
            if (_serviceGone.Remove(key) && stored is not null)
                SendAndForget(new DeleteObject(new ResourceKey(EndpointsResource, key.Namespace, key.Name),
                    PreconditionUid: stored.Metadata.Uid));
            return;
        }
        _serviceGone.Remove(key);
        if (service.Spec?.Selector is not { Count: > 0 } || service.Metadata.DeletionTimestamp is not null) return;

        var wanted = EndpointsBuilder.Build(service, Cache.List<V1Pod>(Pods, key.Namespace));
        if (stored is null)
        {
            Send(new CreateObject(EndpointsResource, wanted), key);
            return;
        }
        if (EndpointsBuilder.SameContent(stored, wanted)) return;

        var updated = KubeObjects.Clone(stored);
        updated.Subsets = wanted.Subsets;
        updated.Metadata.Labels = wanted.Metadata.Labels;
        Send(new UpdateObject(EndpointsResource, updated), key);
    }

    // A conflict or AlreadyExists means our cache is behind: the feed will wake us, but look again anyway.
    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is ResourceKey key && !reply.Succeeded)
        {
            if (reply.Failed!.Error.Code is not (409 or 404))
                Log.Warning("writing endpoints {0} failed: {1}", key, reply.Failed.Error.Message);
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        }
    }
}
