using Akka.Actor;
using Akka.Event;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// The API server's side of CustomResourceDefinitions (apiextensions-apiserver's naming, establishing and finalizing
/// controllers in one actor): it watches the definitions in the store and, for each, sets the descriptions of its
/// served versions into the <see cref="ResourceCatalog"/> — routing, discovery and OpenAPI serve them from that
/// moment — and records it in the status (NamesAccepted and Established, acceptedNames, storedVersions). A
/// definition being deleted (its cleanup finalizer holds it) is marked Terminating, its objects are deleted by a
/// <see cref="CustomObjectCleaner"/>, then the finalizer is removed and the store deletes it; when it is gone its
/// resources leave the catalog. Level-triggered: every change and a periodic resync run the same <c>Sync</c>.
/// Talks to the store only by its protocol (Tell), never to the API.
/// </summary>
internal sealed class CustomResourceDefinitionController : ReceiveActor, IWithTimers
{
    public const string Resource = "customresourcedefinitions";
    private static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(10);

    private readonly IActorRef _store;
    private readonly ResourceCatalog _catalog;
    private readonly Dictionary<string, V1CustomResourceDefinition> _definitions = new();
    private readonly Dictionary<string, (string Uid, IActorRef Cleaner)> _cleaners = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Relist;
    private sealed record Resync;

    /// <summary>A cleaner found no object of the definition left.</summary>
    internal sealed record CleanupFinished(string Definition, string Uid);

    public CustomResourceDefinitionController(IActorRef store, ResourceCatalog catalog)
    {
        _store = store;
        _catalog = catalog;
        Listing();
    }

    public static Props Props(IActorRef store, ResourceCatalog catalog) =>
        Akka.Actor.Props.Create(() => new CustomResourceDefinitionController(store, catalog));

    protected override void PreStart()
    {
        _store.Tell(new ListObjects(Resource));
        Timers.StartPeriodicTimer(nameof(Resync), new Resync(), ResyncInterval);
    }

    private void Listing()
    {
        Receive<ObjectsListed>(listed =>
        {
            var present = listed.Items.Select(i => i.Metadata.Name).ToHashSet();
            foreach (var gone in _definitions.Keys.Where(n => !present.Contains(n)).ToList()) Forget(gone);
            // described before the control plane came to this master (from its replica, which lags): gone since
            foreach (var source in _catalog.Sources.Where(s => s.StartsWith(CustomResourceDescriptions.SourcePrefix, StringComparison.Ordinal)
                         && !present.Contains(s[CustomResourceDescriptions.SourcePrefix.Length..])).ToList())
                _catalog.Remove(source);
            foreach (var crd in listed.Items.OfType<V1CustomResourceDefinition>()) Sync(crd);
            _store.Tell(new WatchObjects(Resource, null, listed.ResourceVersion, Self));
            Become(Watching);
        });
        Receive<StoreFailed>(failed =>
        {
            _log.Warning("listing CustomResourceDefinitions failed: {0}; retrying", failed.Error.Message);
            Timers.StartSingleTimer(nameof(Relist), new Relist(), TimeSpan.FromSeconds(1));
        });
        Receive<Relist>(_ => _store.Tell(new ListObjects(Resource)));
        Receive<Resync>(_ => { });
        Receive<CleanupFinished>(_ => { });
        Receive<ObjectStored>(_ => { });
    }

    private void Watching()
    {
        Receive<WatchStarted>(_ => { });
        Receive<ObjectChanged>(change =>
        {
            if (change.Type == "DELETED") Forget(change.Object.Metadata.Name);
            else if (change.Object is V1CustomResourceDefinition crd) Sync(crd);
        });
        Receive<Resync>(_ =>
        {
            foreach (var crd in _definitions.Values.ToList()) Sync(crd);
        });
        Receive<CleanupFinished>(finished =>
        {
            _cleaners.Remove(finished.Definition);
            if (_definitions.GetValueOrDefault(finished.Definition) is { Metadata.DeletionTimestamp: not null } crd &&
                crd.Metadata.Uid == finished.Uid)
                RemoveFinalizer(crd);
        });
        // Replies to status writes and finalizer removals: the watch brings the result; a lost race is resynced.
        Receive<ObjectStored>(_ => { });
        Receive<StoreFailed>(failed =>
        {
            if (failed.Error.Code is 409 or 404) return;
            _log.Warning("a CustomResourceDefinition write failed: {0} {1}", failed.Error.Code, failed.Error.Message);
        });
        Receive<Terminated>(_ => { });
    }

    private void Sync(V1CustomResourceDefinition crd)
    {
        var name = crd.Metadata.Name;
        _definitions[name] = crd;
        // Served while terminating too (as Kubernetes does), so that its objects can be listed and deleted.
        string? conflict = null;
        try
        {
            _catalog.Set(CustomResourceDescriptions.SourceOf(name), CustomResourceDescriptions.From(crd));
        }
        catch (InvalidOperationException e)
        {
            conflict = e.Message;
        }
        if (crd.Metadata.DeletionTimestamp is not null)
        {
            Terminate(crd);
            return;
        }
        var status = CustomResourceDefinitionStatus.Established(crd, conflict);
        if (!CustomResourceDefinitionStatus.Same(crd.Status, status)) WriteStatus(crd, status);
    }

    /// <summary>Marks the definition Terminating and deletes its objects; the finalizer goes once none is left.</summary>
    private void Terminate(V1CustomResourceDefinition crd)
    {
        var status = CustomResourceDefinitionStatus.Terminating(crd);
        if (!CustomResourceDefinitionStatus.Same(crd.Status, status)) WriteStatus(crd, status);
        if (crd.Metadata.Finalizers?.Contains(CustomResourceDefinitionStrategy.CleanupFinalizer) != true) return;
        if (_cleaners.TryGetValue(crd.Metadata.Name, out var running) && running.Uid == crd.Metadata.Uid) return;
        var storeName = $"{crd.Spec.Names.Plural}.{crd.Spec.Group}";
        var cleaner = Context.ActorOf(CustomObjectCleaner.Props(_store, storeName, crd.Metadata.Name, crd.Metadata.Uid));
        _cleaners[crd.Metadata.Name] = (crd.Metadata.Uid, cleaner);
    }

    private void RemoveFinalizer(V1CustomResourceDefinition crd)
    {
        var updated = KubeObjects.Clone(crd);
        updated.Metadata.Finalizers = updated.Metadata.Finalizers!.Where(f => f != CustomResourceDefinitionStrategy.CleanupFinalizer).ToList();
        _store.Tell(new UpdateObject(Resource, updated));
    }

    private void WriteStatus(V1CustomResourceDefinition crd, V1CustomResourceDefinitionStatus status)
    {
        var updated = KubeObjects.Clone(crd);
        updated.Status = status;
        _store.Tell(new UpdateObject(Resource, updated, "status"));
    }

    private void Forget(string name)
    {
        _definitions.Remove(name);
        _catalog.Remove(CustomResourceDescriptions.SourceOf(name));
        if (_cleaners.Remove(name, out var cleaner)) Context.Stop(cleaner.Cleaner);
    }
}
