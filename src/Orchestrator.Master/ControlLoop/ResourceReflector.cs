using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// Keeps its parent's view of one resource current: lists it, then watches from the list's resourceVersion,
/// forwarding the list as <see cref="ResourceListed"/> and every change as the store's ObjectChanged.
/// On 410 Gone (the watch window moved past us) it relists; a resource not served is listed empty and tried again
/// later. One reflector per resource, so each reply it receives answers the one request it has in flight. The store
/// drops the watch when the reflector stops (it death-watches subscribers). It never interprets objects.
/// </summary>
internal sealed class ResourceReflector : ReceiveActor, IWithTimers
{
    private sealed record Relist
    {
        public static readonly Relist Instance = new();
    }

    private static readonly TimeSpan UnservedRelist = TimeSpan.FromSeconds(10);

    private readonly IActorRef _store;
    private readonly string _resource;
    private readonly IActorRef _owner;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public ResourceReflector(IActorRef store, string resource, IActorRef owner)
    {
        _store = store;
        _resource = resource;
        _owner = owner;
        Listing();
    }

    public static Props Props(IActorRef store, string resource, IActorRef owner) =>
        Akka.Actor.Props.Create(() => new ResourceReflector(store, resource, owner));

    protected override void PreStart() => StartList();

    private void StartList()
    {
        _store.Tell(new ListObjects(_resource), Self);
        Become(Listing);
    }

    private void RelistLater(StoreFailed failed)
    {
        _log.Warning("{0}: list/watch failed ({1} {2}); relisting", _resource, failed.Error.Code, failed.Error.Message);
        _store.Tell(new Unwatch(Self), Self);
        Timers.StartSingleTimer(Relist.Instance, Relist.Instance, TimeSpan.FromSeconds(1));
        Become(Waiting);
    }

    private void Waiting()
    {
        Receive<Relist>(_ => StartList());
        Receive<ObjectChanged>(_ => { }); // from the abandoned watch; the relist covers it
    }

    private void Listing()
    {
        Receive<ObjectsListed>(listed =>
        {
            _owner.Tell(new ResourceListed(_resource, listed.Items, listed.ResourceVersion));
            _store.Tell(new WatchObjects(_resource, null, listed.ResourceVersion, Self), Self);
            Become(Watching);
        });
        Receive<StoreFailed>(failed =>
        {
            if (failed.Error.Code != 404)
            {
                RelistLater(failed);
                return;
            }
            // A resource not served (a custom resource whose definition was deleted, or is not read yet) has no
            // objects: the owner gets it listed empty, so it does not wait for it to act on everything else, and the
            // list is tried again now and then for the resource to come back.
            _owner.Tell(new ResourceListed(_resource, [], 0));
            _store.Tell(new Unwatch(Self), Self);
            Timers.StartSingleTimer(Relist.Instance, Relist.Instance, UnservedRelist);
            Become(Waiting);
        });
        Receive<ObjectChanged>(_ => { });
    }

    private void Watching()
    {
        Receive<WatchStarted>(_ => { });
        Receive<ObjectChanged>(change => _owner.Tell(change));
        Receive<StoreFailed>(failed =>
        {
            if (failed.Error.Code == 410)
            {
                _store.Tell(new Unwatch(Self), Self);
                StartList();
            }
            else RelistLater(failed);
        });
    }
}
