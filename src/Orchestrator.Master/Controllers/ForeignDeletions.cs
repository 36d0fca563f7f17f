using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Tells the garbage collector about objects deleted in resources it does not watch — custom resources above all, whose
/// dependents (a Deployment an operator created for its custom object) must go with them. It watches every resource
/// and forwards only those deletions, as <see cref="OwnerDeleted"/>; and, as <see cref="OwnerFinalizing"/>, the resources
/// of objects that wait for the collector's own finalizers (a Job or a HorizontalPodAutoscaler deleted with
/// propagationPolicy Foreground or Orphan), which the collector then starts watching.
/// </summary>
internal sealed class ForeignDeletions : ReceiveActor
{
    /// <summary>An object of an unwatched resource was deleted; dependents naming its uid may now be orphans.</summary>
    internal sealed record OwnerDeleted(string Uid);

    /// <summary>An object of an unwatched resource is being deleted and carries the foregroundDeletion or orphan
    /// finalizer: only the garbage collector removes those.</summary>
    internal sealed record OwnerFinalizing(string Resource);

    private readonly IActorRef _store;

    public ForeignDeletions(IActorRef store, IReadOnlyCollection<string> watched)
    {
        _store = store;
        Receive<WatchStarted>(_ => { });
        Receive<ObjectChanged>(change =>
        {
            if (watched.Contains(change.Resource)) return;
            if (change.Type == "DELETED" && change.Object.Metadata.Uid is { } uid)
                Context.Parent.Tell(new OwnerDeleted(uid));
            else if (change.Type != "DELETED" && change.Object.Metadata.DeletionTimestamp is not null &&
                     change.Object.Metadata.Finalizers?.Any(f => f is GarbageCollector.ForegroundFinalizer or GarbageCollector.OrphanFinalizer) == true)
                Context.Parent.Tell(new OwnerFinalizing(change.Resource));
        });
        Receive<StoreFailed>(_ => Context.Stop(Self));
    }

    public static Props Props(IActorRef store, IReadOnlyCollection<string> watched) =>
        Akka.Actor.Props.Create(() => new ForeignDeletions(store, watched));

    protected override void PreStart() => _store.Tell(new WatchObjects("*", null, null, Self));
}
