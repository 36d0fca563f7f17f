using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Keeps a ConfigMap <c>kube-root-ca.crt</c> with key <c>ca.crt</c> — the CA of the API server's serving certificate —
/// in every active namespace (kube-controller-manager's root-ca-cert-publisher), so pods can verify the API server:
/// created when a namespace appears, rewritten when its data or annotations are changed, recreated when deleted.
/// </summary>
internal sealed class RootCaPublisher : ControllerActor
{
    public const string ConfigMapName = "kube-root-ca.crt";
    public const string Key = "ca.crt";
    /// <summary>kube's annotation on the ConfigMap: it describes what the data is for.</summary>
    public const string DescriptionAnnotation = "kubernetes.io/description";
    public const string Description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
    private const string Namespaces = "namespaces";
    private const string ConfigMaps = "configmaps";

    private readonly string _caPem;

    public RootCaPublisher(IActorRef store, TimeSpan resync, string caPem) : base(store, [Namespaces, ConfigMaps], resync) => _caPem = caPem;

    public static Props Props(IActorRef store, TimeSpan resync, string caPem) =>
        Akka.Actor.Props.Create(() => new RootCaPublisher(store, resync, caPem));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Namespaces);

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource == Namespaces && current is not null) Enqueue(ObjectCache.KeyOf(resource, current));
        else if (resource == ConfigMaps && (current ?? old)?.Metadata is { Name: ConfigMapName } meta)
            Enqueue(new ResourceKey(Namespaces, null, meta.NamespaceProperty));
    }

    protected override void Reconcile(ResourceKey key)
    {
        if (Cache.Get(key) is not V1Namespace ns || ns.Metadata.DeletionTimestamp is not null || ns.Status?.Phase is "Terminating") return;
        var existing = Cache.Get(new ResourceKey(ConfigMaps, ns.Metadata.Name, ConfigMapName)) as V1ConfigMap;
        if (existing is null)
        {
            Send(new CreateObject(ConfigMaps, new V1ConfigMap
            {
                ApiVersion = "v1", Kind = "ConfigMap",
                Metadata = new V1ObjectMeta
                {
                    Name = ConfigMapName, NamespaceProperty = ns.Metadata.Name,
                    Annotations = new Dictionary<string, string> { [DescriptionAnnotation] = Description },
                },
                Data = new Dictionary<string, string> { [Key] = _caPem },
            }), key);
            return;
        }
        if (existing.Data is { Count: 1 } data && data.TryGetValue(Key, out var pem) && pem == _caPem &&
            existing.Metadata.Annotations?.TryGetValue(DescriptionAnnotation, out var description) == true && description == Description)
            return;
        var updated = KubeObjects.Clone(existing);
        updated.Data = new Dictionary<string, string> { [Key] = _caPem };
        updated.BinaryData = null;
        updated.Metadata.Annotations ??= new Dictionary<string, string>();
        updated.Metadata.Annotations[DescriptionAnnotation] = Description;
        Send(new UpdateObject(ConfigMaps, updated, null), key);
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // AlreadyExists or a conflict: our cache is behind and the change will enqueue it again; Forbidden/NotFound:
        // the namespace is going. Anything else is tried again.
        if (reply.Tag is ResourceKey key && reply.Failed is { } failed && failed.Error.Code is not (409 or 403 or 404))
            RequeueAfter(key, TimeSpan.FromSeconds(1));
        base.OnStoreReplied(reply);
    }
}
