using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Bench.Scheduling;

/// <summary>Watches pods in the store and notes when the last pod got bound and when the last one ran.
/// Ask it <see cref="GetProgress"/>.</summary>
public sealed class PodCounter : ReceiveActor
{
    public sealed record GetProgress;

    public sealed record Progress(int Pods, int Bound, int Running, DateTime? AllBoundAt, DateTime? AllRunningAt);

    private readonly HashSet<string> _pods = new();
    private readonly HashSet<string> _bound = new();
    private readonly HashSet<string> _running = new();
    private DateTime? _allBound;
    private DateTime? _allRunning;

    public PodCounter(IActorRef store, int expected)
    {
        Receive<WatchStarted>(_ => { });
        Receive<ObjectChanged>(change =>
        {
            if (change.Type == "DELETED" || change.Object is not V1Pod pod) return;
            var uid = pod.Metadata.Uid;
            _pods.Add(uid);
            if (!string.IsNullOrEmpty(pod.Spec?.NodeName)) _bound.Add(uid);
            if (pod.Status?.Phase == "Running") _running.Add(uid);
            var now = DateTime.UtcNow;
            if (_allBound is null && _bound.Count >= expected) _allBound = now;
            if (_allRunning is null && _running.Count >= expected) _allRunning = now;
        });
        Receive<GetProgress>(_ => Sender.Tell(new Progress(_pods.Count, _bound.Count, _running.Count, _allBound, _allRunning)));
        store.Tell(new WatchObjects("pods", null, null, Self));
    }

    public static Props Props(IActorRef store, int expected) => Akka.Actor.Props.Create(() => new PodCounter(store, expected));
}
