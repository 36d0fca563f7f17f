using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Tells the garbage collector about objects deleted in resources it does not watch — custom resources above all, whose
/// dependents (a Deployment an operator created for its custom object) must go with them. It watches every resource
/// and forwards only those deletions, as <see cref="OwnerDeleted"/>.
/// </summary>
internal sealed class ForeignDeletions : ReceiveActor
{
    /// <summary>An object of an unwatched resource was deleted; dependents naming its uid may now be orphans.</summary>
    internal sealed record OwnerDeleted(string Uid);

    private readonly IActorRef _store;

    public ForeignDeletions(IActorRef store, IReadOnlyCollection<string> watched)
    {
        _store = store;
        Receive<WatchStarted>(_ => { });
        Receive<ObjectChanged>(change =>
        {
            if (change.Type == "DELETED" && !watched.Contains(change.Resource) && change.Object.Metadata.Uid is { } uid)
                Context.Parent.Tell(new OwnerDeleted(uid));
        });
        Receive<StoreFailed>(_ => Context.Stop(Self));
    }

    public static Props Props(IActorRef store, IReadOnlyCollection<string> watched) =>
        Akka.Actor.Props.Create(() => new ForeignDeletions(store, watched));

    protected override void PreStart() => _store.Tell(new WatchObjects("*", null, null, Self));
}
