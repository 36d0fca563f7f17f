using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// Deletes every object of a terminating definition (apiextensions-apiserver's finalizer, one per definition): lists
/// them, deletes each, and lists again until none is left — objects held by their own finalizers are waited for —
/// then tells its parent <see cref="CustomResourceDefinitionController.CleanupFinished"/> and stops.
/// </summary>
internal sealed class CustomObjectCleaner : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan RelistDelay = TimeSpan.FromMilliseconds(500);

    private readonly IActorRef _store;
    private readonly string _storeName;
    private readonly string _definition;
    private readonly string _uid;
    private int _pending;

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Relist;

    public CustomObjectCleaner(IActorRef store, string storeName, string definition, string uid)
    {
        _store = store;
        _storeName = storeName;
        _definition = definition;
        _uid = uid;
        Receive<ObjectsListed>(listed =>
        {
            if (listed.Items.Count == 0)
            {
                Context.Parent.Tell(new CustomResourceDefinitionController.CleanupFinished(_definition, _uid));
                Context.Stop(Self);
                return;
            }
            _pending = 0;
            foreach (var obj in listed.Items.Where(o => o.Metadata.DeletionTimestamp is null))
            {
                _pending++;
                _store.Tell(new DeleteObject(new ResourceKey(_storeName, obj.Metadata.NamespaceProperty, obj.Metadata.Name),
                    PreconditionUid: obj.Metadata.Uid));
            }
            if (_pending == 0) Timers.StartSingleTimer(nameof(Relist), new Relist(), RelistDelay);
        });
        Receive<ObjectStored>(_ => Replied());
        Receive<StoreFailed>(failed =>
        {
            // Not served yet or any more (404 for the resource): nothing of it can be left to delete.
            if (_pending == 0 && failed.Error.Code == 404)
            {
                Context.Parent.Tell(new CustomResourceDefinitionController.CleanupFinished(_definition, _uid));
                Context.Stop(Self);
                return;
            }
            Replied();
        });
        Receive<Relist>(_ => _store.Tell(new ListObjects(_storeName)));
    }

    public static Props Props(IActorRef store, string storeName, string definition, string uid) =>
        Akka.Actor.Props.Create(() => new CustomObjectCleaner(store, storeName, definition, uid));

    protected override void PreStart() => _store.Tell(new ListObjects(_storeName));

    private void Replied()
    {
        if (--_pending == 0) Timers.StartSingleTimer(nameof(Relist), new Relist(), RelistDelay);
    }
}
