using System.Threading.Channels;
using Akka.Actor;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Rest;

/// <summary>
/// The store-side end of one HTTP watch: subscribes to the ObjectStore's change feed with the HTTP request's channel as
/// its sink (the store writes WatchStarted and the changes straight into it, without a hop through this mailbox) and
/// hands on what still comes to it (StoreFailed, bookmarks' wake-ups). It owns nothing else; stopping it unsubscribes.
/// If the store dies, or the request falls too far behind, the channel is completed and the client re-watches, as with
/// a real API server.
/// </summary>
internal sealed class WatchForwarder : ReceiveActor, IWithTimers
{
    /// <summary>Periodic wake-up so the request can send bookmarks while nothing changes.</summary>
    public sealed record BookmarkDue
    {
        public static BookmarkDue Instance { get; } = new();
    }

    private readonly IActorRef _store;
    private readonly WatchObjects _subscription;
    private readonly ChannelWriter<object> _writer;
    private readonly TimeSpan? _bookmarkInterval;

    public ITimerScheduler Timers { get; set; } = null!;

    public WatchForwarder(IActorRef store, string resource, string? ns, long? fromResourceVersion,
        ChannelWriter<object> writer, TimeSpan? bookmarkInterval)
    {
        _store = store;
        _writer = writer;
        _bookmarkInterval = bookmarkInterval;
        _subscription = new WatchObjects(resource, ns, fromResourceVersion, Self) { Batches = true, Sink = writer };

        Receive<Terminated>(t => t.ActorRef.Equals(_store), _ =>
        {
            _writer.TryComplete(new WatchFeedEndedException("the object store stopped"));
            Context.Stop(Self);
        });
        ReceiveAny(message =>
        {
            if (!_writer.TryWrite(message))
            {
                _writer.TryComplete(new WatchFeedEndedException("the watch fell too far behind"));
                Context.Stop(Self);
            }
        });
    }

    public static Props Props(IActorRef store, string resource, string? ns, long? fromResourceVersion,
        ChannelWriter<object> writer, TimeSpan? bookmarkInterval) =>
        Akka.Actor.Props.Create(() => new WatchForwarder(store, resource, ns, fromResourceVersion, writer, bookmarkInterval));

    protected override void PreStart()
    {
        Context.Watch(_store);
        _store.Tell(_subscription, Self);
        if (_bookmarkInterval is { } interval)
            Timers.StartPeriodicTimer("bookmark", BookmarkDue.Instance, interval);
    }

    protected override void PostStop()
    {
        _store.Tell(new Unwatch(Self), ActorRefs.NoSender);
        _writer.TryComplete();
    }
}
