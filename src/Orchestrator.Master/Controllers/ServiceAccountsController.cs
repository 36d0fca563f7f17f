using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Keeps a ServiceAccount named <c>default</c> in every active namespace (kube-controller-manager's serviceaccount
/// controller): created when a namespace appears, and again whenever it is deleted. Namespaces being deleted are left
/// alone (the store refuses new content in them anyway).
/// </summary>
internal sealed class ServiceAccountsController : ControllerActor
{
    public const string DefaultName = "default";
    private const string Namespaces = "namespaces";
    private const string ServiceAccounts = "serviceaccounts";

    public ServiceAccountsController(IActorRef store, TimeSpan resync) : base(store, [Namespaces, ServiceAccounts], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new ServiceAccountsController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Namespaces);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Namespaces && current is not null) Enqueue(ObjectCache.KeyOf(resource, current));
        else if (resource == ServiceAccounts && current is null && old?.Metadata.Name == DefaultName)
            Enqueue(new ResourceKey(Namespaces, null, old.Metadata.NamespaceProperty));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1Namespace ns || ns.Metadata.DeletionTimestamp is not null || ns.Status?.Phase is "Terminating") return;
        if (Cache.Get(new ResourceKey(ServiceAccounts, ns.Metadata.Name, DefaultName)) is not null) return;
        Send(new CreateObject(ServiceAccounts, new V1ServiceAccount
        {
            ApiVersion = "v1",
            Kind = "ServiceAccount",
            Metadata = new V1ObjectMeta { Name = DefaultName, NamespaceProperty = ns.Metadata.Name },
        }), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // AlreadyExists: our cache had not seen it yet; Forbidden: the namespace started terminating. Anything else is
        // tried again.
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code is not (409 or 403 or 404))
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        base.OnStoreReplied(reply);
    }
}
