using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

// The seam between the store and the resources it keeps. The store defines what it needs to know while it plans a
// write; the Registry (Master/Registry) implements it — one description per served resource with its strategy —
// and hands it to the store at start. The store never imports the Registry.

/// <summary>The served resources, as the store looks them up. Implementations are thread-safe snapshots (the API
/// and the store's actor read them concurrently; custom resources come and go at run time).</summary>
internal interface IResourceCatalog
{
    /// <summary>The resource stored under <paramref name="storeName"/> ("pods", "events.events.k8s.io",
    /// "crontabs.stable.example.com"), or null when none is served.</summary>
    IStoredResource? Find(string storeName);

    /// <summary>The resource of objects of this apiVersion and kind (how ownerReferences name owners), or null.</summary>
    IStoredResource? FindByKind(string apiVersion, string kind);

    /// <summary>Every resource the store keeps (the storage version of each), e.g. to delete a namespace's content.</summary>
    IEnumerable<IStoredResource> Stored { get; }

    /// <summary>Whether the API serves <paramref name="group"/>/<paramref name="version"/> now (any resource of it).</summary>
    bool Serves(string group, string version);

    /// <summary>A stored object's JSON as an object: its resource's type, or — for a resource not served (yet), as
    /// custom objects are at recovery before their definition is read — a generic object that keeps every field.</summary>
    IKubernetesObject<V1ObjectMeta> Decode(string storeName, string json);

    /// <summary><see cref="Decode(string, string)"/> of UTF-8 text (a journal record's).</summary>
    IKubernetesObject<V1ObjectMeta> Decode(string storeName, ReadOnlySpan<byte> utf8Json);
}

/// <summary>One stored resource: its identity, for keys and for the messages of refusals, and its strategy.</summary>
internal interface IStoredResource
{
    /// <summary>The store's key for the resource: the plural for built-in kinds (qualified by group where a core
    /// plural is reused, "events.events.k8s.io"), <c>plural.group</c> for custom resources.</summary>
    string StoreName { get; }

    string Group { get; }

    /// <summary>The version objects are stored in.</summary>
    string Version { get; }

    /// <summary>The plural, as in URLs ("deployments").</summary>
    string Resource { get; }

    string Kind { get; }

    bool Namespaced { get; }

    IResourceStrategy Strategy { get; }
}

/// <summary>
/// What a resource's kind adds to a write, as kube-apiserver's create/update strategies do. The store calls it while
/// planning, on its own deep copy of the object (never one another reader holds; for a /status update of a kind that
/// <see cref="StatusUpdateReplacesOnlyStatus"/>, a shallow copy of the stored object), in this order:
/// create: <see cref="PrepareForCreate"/>, server-side metadata, <see cref="Admit"/>;
/// update: server-side metadata, <see cref="PrepareForUpdate"/>, <see cref="Admit"/>;
/// update of a subresource: <see cref="PrepareForSubresourceUpdate"/>, then <see cref="Admit"/> (for /status only when
/// <see cref="ValidatesStatusUpdates"/>);
/// delete: <see cref="RefuseDeletion"/>, then an object <see cref="HasFinalizers"/> is only marked, through
/// <see cref="PrepareForDeletion"/>.
/// </summary>
internal interface IResourceStrategy
{
    /// <summary>Whether the object is of this resource's type (a body decoded for another resource is refused).</summary>
    bool Accepts(IKubernetesObject<V1ObjectMeta> obj);

    /// <summary>Whether the kind keeps metadata.generation: 1 on create, bumped by the updates
    /// <see cref="PrepareForUpdate"/> says change it (where it keeps none, a client's value is stored as sent on create
    /// and kept on updates, as kube-apiserver's BeforeCreate/BeforeUpdate do).</summary>
    bool HasGeneration { get; }

    /// <summary>A new object: clears what clients may not set (status, where status is a subresource). Adds to
    /// <paramref name="warnings"/> what must be said of the object as the client sent it (kube's strategies warn
    /// through the request's context there, before they change it: a pod's AppArmor annotations).</summary>
    void PrepareForCreate(IKubernetesObject<V1ObjectMeta> obj, List<string> warnings);

    /// <summary>An update of the main resource: keeps the stored status where status is a subresource; returns
    /// whether metadata.generation is bumped (the kind's rule: most kinds, a change of the spec).</summary>
    bool PrepareForUpdate(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta> old);

    /// <summary>An update through a subresource: the stored object with what the subresource may change taken from
    /// the new object (/status: the status), or null when the resource has no such writable subresource.</summary>
    IKubernetesObject<V1ObjectMeta>? PrepareForSubresourceUpdate(string subresource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta> old);

    /// <summary>Whether an update through /status is admitted (<see cref="Admit"/>) as other updates are; most kinds'
    /// status writers are the control plane's own, and their status is not validated.</summary>
    bool ValidatesStatusUpdates => false;

    /// <summary>Whether an update through /status takes nothing from the request but its status, writes nothing else into
    /// the stored object it is given, and is not admitted (<see cref="ValidatesStatusUpdates"/> false): the store may
    /// then give <see cref="PrepareForSubresourceUpdate"/> a shallow copy of the stored object (its own metadata, the
    /// rest shared) instead of a deep one.</summary>
    bool StatusUpdateReplacesOnlyStatus => false;

    /// <summary>Whether the object's status is a subresource: written only through /status, cleared on create, and so one
    /// of the kind's reset fields (kube's GetResetFields), which no manager of the main resource owns.</summary>
    bool StatusIsSubresource(IKubernetesObject<V1ObjectMeta> obj) => false;

    /// <summary>The object's status (its <c>status</c> property; null when it has none set), for a kind that
    /// <see cref="StatusUpdateReplacesOnlyStatus"/>: the store compares and diffs only that part of a /status update.</summary>
    object? StatusOf(IKubernetesObject<V1ObjectMeta> obj) => throw new NotSupportedException("the kind's status update is not status-only");

    /// <summary>Whether something still holds the object from deletion: metadata.finalizers (and a namespace's
    /// spec.finalizers). A held object is marked on delete and removed when nothing holds it any more.</summary>
    bool HasFinalizers(IKubernetesObject<V1ObjectMeta> obj);

    /// <summary>The marked copy of an object being deleted (deletionTimestamp set): what else the kind records then
    /// (a namespace's phase Terminating).</summary>
    void PrepareForDeletion(IKubernetesObject<V1ObjectMeta> marked);

    /// <summary>Why the stored object may not be deleted now (a system namespace: 403; a namespace whose content is
    /// being removed: 409), or null.</summary>
    StoreError? RefuseDeletion(IStoredResource resource, IKubernetesObject<V1ObjectMeta> stored);

    /// <summary>Only the defaults of <see cref="Admit"/> (kube's decoding defaults: the scheme's defaulting functions, a custom
    /// resource's schema defaults), in place and idempotent: the API applies them to a request's object before admission
    /// webhooks see it, and again to what a mutating webhook returns, as kube-apiserver does; <see cref="Admit"/> applies
    /// them again.</summary>
    void Default(IKubernetesObject<V1ObjectMeta> obj);

    /// <summary>A request's object as kube-apiserver decodes it, before admission: a custom resource's fields its schema
    /// does not declare are pruned (apiextensions-apiserver's schema-coercing decoder), then <see cref="Default"/>.
    /// Fields a mutating webhook adds are pruned later, by the store, as kube prunes them on the way to storage.</summary>
    void DefaultDecoded(IKubernetesObject<V1ObjectMeta> obj) => Default(obj);

    /// <summary>Defaults the object in place and validates it (<paramref name="old"/> is the stored object on update,
    /// null on create; <paramref name="subresource"/> names the subresource an update came through). A cause per
    /// violation: any cause is 422 Invalid, and nothing is stored.</summary>
    IReadOnlyList<StoreErrorCause> Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old,
        IAdmissionContext context, string? subresource = null);
}

/// <summary>What a strategy may read of the store besides the object itself: the other objects (allocations such as
/// ClusterIPs and node ports are unique among them). Reads the state the write is planned against.</summary>
internal interface IAdmissionContext
{
    IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null);

    /// <summary>The apiVersion of the API the write came through when it is not the stored version ("events.k8s.io/v1"
    /// for the core events' storage), or null: a kind whose rules differ by the request's version (kube-apiserver's
    /// strategies read it from the request's context) reads it here.</summary>
    string? RequestApiVersion => null;
}
