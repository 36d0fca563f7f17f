using Akka.Actor;
using Akka.Event;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// On a master that follows the leader (docs/multi-master.md), the descriptions of the CustomResourceDefinitions' served
/// versions, read from this master's replica of the store: the same <see cref="CustomResourceDescriptions.From"/> as the
/// leader's <see cref="CustomResourceDefinitionController"/> sets (schema, scope, names, printer columns, conversion), so
/// the follower's API serves custom resources from its replica as it serves built-in kinds. It only describes: the
/// status, the finalizer and the cleanup of a definition stay the controller's, on the leader. While
/// <c>active</c> says no (the control plane runs here and its controller describes), it changes nothing.
/// <see cref="Synced"/> answers once every change the replica published before it was applied, so that a
/// forwarded write of a definition is answered only once its description is here (read-your-writes).
/// </summary>
internal sealed class CustomResourceDescriptionMirror : ReceiveActor, IWithTimers, IWithStash
{
    public const string ActorName = "customresource-descriptions";

    private readonly IActorRef _replica;
    private readonly ResourceCatalog _catalog;
    private readonly Func<bool> _active;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _described = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>Answered with <see cref="Synced"/> after every change the replica sent before this was asked.</summary>
    public sealed record Sync
    {
        public static Sync Instance { get; } = new();
    }

    public sealed record Synced
    {
        public static Synced Instance { get; } = new();
    }

    private sealed record Relist
    {
        public static Relist Instance { get; } = new();
    }

    public CustomResourceDescriptionMirror(IActorRef replica, ResourceCatalog catalog, Func<bool> active)
    {
        _replica = replica;
        _catalog = catalog;
        _active = active;
        Listing();
    }

    public static Props Props(IActorRef replica, ResourceCatalog catalog, Func<bool> active) =>
        Akka.Actor.Props.Create(() => new CustomResourceDescriptionMirror(replica, catalog, active));

    protected override void PreStart() => List();

    private void List() =>
        // version 0: what the replica has (it answers once it follows a leader, or 504 after its wait)
        _replica.Tell(new ListObjects(CustomResourceDefinitionController.Resource) { NotOlderThan = 0 });

    private void Listing()
    {
        Receive<ObjectsListed>(listed =>
        {
            var present = listed.Items.Select(i => i.Metadata.Name).ToHashSet();
            foreach (var gone in _described.Where(n => !present.Contains(n)).ToList()) Forget(gone);
            foreach (var crd in listed.Items.OfType<V1CustomResourceDefinition>()) Describe(crd);
            _replica.Tell(new WatchObjects(CustomResourceDefinitionController.Resource, null, listed.ResourceVersion, Self));
            Become(Starting);
        });
        Receive<StoreFailed>(_ => Timers.StartSingleTimer(nameof(Relist), Relist.Instance, TimeSpan.FromSeconds(1)));
        Receive<Relist>(_ => List());
        Receive<ObjectChanged>(_ => { });
        Receive<WatchStarted>(_ => { });
        Receive<Sync>(_ => Stash.Stash());
    }

    /// <summary>The watch is asked for. The replica sends the changes it replays right after WatchStarted, in the same
    /// turn; the answer to one more read comes after them, and only then is every change it had applied here.</summary>
    private void Starting()
    {
        Receive<WatchStarted>(_ => _replica.Tell(new ListObjects(CustomResourceDefinitionController.Resource) { NotOlderThan = 0 }));
        Receive<ObjectsListed>(_ =>
        {
            Become(Watching);
            Stash.UnstashAll();
        });
        Changes();
        Receive<Sync>(_ => Stash.Stash());
    }

    private void Watching()
    {
        Receive<WatchStarted>(_ => { });
        Changes();
        Receive<Sync>(_ => Sender.Tell(Synced.Instance));
    }

    private void Changes()
    {
        Receive<ObjectChanged>(change =>
        {
            if (change.Type == "DELETED") Forget(change.Object.Metadata.Name);
            else if (change.Object is V1CustomResourceDefinition crd) Describe(crd);
        });
        // the watch ended (a new snapshot of the leader's store): list again
        Receive<StoreFailed>(failed =>
        {
            _log.Info("watching CustomResourceDefinitions in the replica ended ({0}); listing again", failed.Error.Message);
            _replica.Tell(new Unwatch(Self));
            List();
            Become(Listing);
        });
    }

    private void Describe(V1CustomResourceDefinition crd)
    {
        if (!_active()) return;
        _described.Add(crd.Metadata.Name);
        try
        {
            _catalog.Set(CustomResourceDescriptions.SourceOf(crd.Metadata.Name), CustomResourceDescriptions.From(crd));
        }
        catch (InvalidOperationException)
        {
            // another source serves these resources: the leader's controller refuses the definition (NamesAccepted) too
        }
    }

    private void Forget(string name)
    {
        if (!_active()) return;
        _described.Remove(name);
        _catalog.Remove(CustomResourceDescriptions.SourceOf(name));
    }
}
