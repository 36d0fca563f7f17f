using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.Api.Storage;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// The informer the authorizers' caches share (<see cref="RbacCache"/>, <see cref="NodeGraphCache"/>): resolves the store,
/// lists and watches its resources with the control loops' reflectors into an <see cref="ObjectCache"/>, and once every
/// resource is listed hands the cache to <c>publish</c> after each burst of changes (a rebuild is queued behind the
/// changes already in the mailbox), telling the store client's <see cref="InformerSyncs"/> after the first (/readyz
/// waits for it). Retries every second while the store cannot be reached.
/// </summary>
internal sealed class StoreInformer : ReceiveActor, IWithTimers
{
    private sealed record Resolve;
    private sealed record Rebuild;

    private readonly ObjectCache _cache = new();
    private readonly HashSet<string> _unsynced;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _rebuildQueued;
    private bool _synced;

    public ITimerScheduler Timers { get; set; } = null!;

    public StoreInformer(string name, ObjectStoreClient store, IReadOnlyList<string> resources, Action<ObjectCache> publish)
    {
        _unsynced = [.. resources];
        Receive<Resolve>(_ => store.StoreAsync(CancellationToken.None).PipeTo(Self, failure: e => new Status.Failure(e)));
        Receive<IActorRef>(storeRef =>
        {
            foreach (var resource in resources)
                Context.ActorOf(ResourceReflector.Props(storeRef, resource, Self), "reflect-" + resource);
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning("{0}: store not reachable ({1}); retrying", name, f.Cause.Message);
            Timers.StartSingleTimer("resolve", new Resolve(), TimeSpan.FromSeconds(1));
        });
        Receive<ResourceListed>(listed =>
        {
            _cache.Replace(listed.Resource, listed.Items, listed.ResourceVersion);
            _unsynced.Remove(listed.Resource);
            QueueRebuild();
        });
        Receive<ObjectChanged>(change =>
        {
            _cache.Apply(change, out var applied);
            if (applied) QueueRebuild();
        });
        Receive<Rebuild>(_ =>
        {
            _rebuildQueued = false;
            if (_unsynced.Count > 0) return;
            publish(_cache);
            if (_synced) return;
            _synced = true;
            store.Informers.Synced(name);
        });
    }

    private void QueueRebuild()
    {
        if (_rebuildQueued) return;
        _rebuildQueued = true;
        Self.Tell(new Rebuild());
    }

    protected override void PreStart() => Self.Tell(new Resolve());
}

/// <summary>Starts informers as top-level actors of the store's system: their owners (the authorizers' caches) are not
/// actors, so no actor could be their parent. Kept outside the actor class so the actor never creates top-level actors.</summary>
internal static class StoreInformers
{
    public static IActorRef Start(string name, ObjectStoreClient store, IReadOnlyList<string> resources, Action<ObjectCache> publish)
    {
        store.Informers.Started(name);
        return store.System.ActorOf(Props.Create(() => new StoreInformer(name, store, resources, publish)), name + "-" + Guid.NewGuid().ToString("N")[..8]);
    }
}
