using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Tells the garbage collector about resources it does not watch yet: it watches every resource the catalog held when
/// it started, so a custom resource defined since (whose objects may own, or be owned by, others: the Deployment an
/// operator made for its custom object) is new to it. Watching every resource, this actor names each such resource
/// once, at its first change, as <see cref="ResourceSeen"/> (the collector then lists and watches it, the changed
/// object included), and forwards deletions in it as <see cref="OwnerDeleted"/> — an object deleted before that list
/// would otherwise leave its dependents behind until the next resync.
/// </summary>
internal sealed class ForeignDeletions : ReceiveActor
{
    /// <summary>An object of an unwatched resource was deleted; dependents naming its uid may now be orphans.</summary>
    internal sealed record OwnerDeleted(string Uid);

    /// <summary>A resource the collector does not watch (yet) had a change: the collector should watch it.</summary>
    internal sealed record ResourceSeen(string Resource);

    private readonly IActorRef _store;

    public ForeignDeletions(IActorRef store, IEnumerable<string> watched)
    {
        _store = store;
        var known = watched.ToHashSet();
        Receive<WatchStarted>(_ => { });
        Receive<ObjectChanged>(change =>
        {
            if (known.Contains(change.Resource)) return;
            if (change.Type == "DELETED" && change.Object.Metadata.Uid is { } uid)
                Context.Parent.Tell(new OwnerDeleted(uid));
            // a deletion too: the deleted object's dependents may be in its own resource (custom objects owning others)
            if (known.Add(change.Resource)) Context.Parent.Tell(new ResourceSeen(change.Resource));
        });
        Receive<StoreFailed>(_ => Context.Stop(Self));
    }

    /// <summary><paramref name="watched"/>: the resources the collector watches, and those it ignores.</summary>
    public static Props Props(IActorRef store, IEnumerable<string> watched)
    {
        var resources = watched.ToList(); // a copy: the collector's own list grows as it watches more
        return Akka.Actor.Props.Create(() => new ForeignDeletions(store, resources));
    }

    protected override void PreStart() => _store.Tell(new WatchObjects("*", null, null, Self));
}
