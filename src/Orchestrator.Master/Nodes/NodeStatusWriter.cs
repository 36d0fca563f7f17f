using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The node gateway's Node /status writes to the store, in batches, as <see cref="PodStatusWriter"/> writes pod
/// statuses (a child of the gateway, so the store names the kubelet as their field manager). Before, every Node status
/// was a store write of its own: 5,000 nodes' first heartbeats after a mass registration came within a second and the
/// store's queue of 1,000 writes refused thousands of them with 429.
/// <para>One batch — one <see cref="WriteObjects"/> — is with the store at a time; the writes that arrive meanwhile go
/// in the next, oldest node first, at most <c>maxBatch</c> in one. A node has at most one write waiting: a newer status
/// takes the place of the waiting one (the status is the node's whole report, written without a resourceVersion, so the
/// last one wins as it did). A write refused for a full queue or a failing journal (429, 5xx, no answer in time) is
/// written again after a pause, unless a newer status of its node is waiting by then; the gateway is not answered (its
/// writes were fire-and-forget, and stay so).</para>
/// </summary>
internal sealed class NodeStatusWriter : ReceiveActor, IWithTimers
{
    public const int DefaultMaxBatch = 1000;

    /// <summary>Gateway → writer: the /status write of node <paramref name="Node"/>.</summary>
    public sealed record Write(string Node, UpdateObject Request);

    private sealed record Resume
    {
        public static readonly Resume Instance = new();
    }

    private readonly IActorRef _store;
    private readonly int _maxBatch;
    private readonly Func<TimeSpan> _backoff;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // by node, in the order their first waiting write came (a newer one keeps the node's place)
    private readonly OrderedDictionary<string, UpdateObject> _due = new(StringComparer.Ordinal);
    private List<Write>? _inFlight;
    private long _sequence;
    private bool _paused;

    public ITimerScheduler Timers { get; set; } = null!;

    public NodeStatusWriter(IActorRef store, int maxBatch, Func<TimeSpan> backoff)
    {
        _store = store;
        _maxBatch = maxBatch;
        _backoff = backoff;
        Receive<Write>(write =>
        {
            _due[write.Node] = write.Request;
            Flush();
        });
        Receive<StoreReplied>(Answered);
        Receive<Resume>(_ =>
        {
            _paused = false;
            Flush();
        });
    }

    /// <param name="backoff">How long the next batch waits after one was refused (429, 5xx).</param>
    public static Props Props(IActorRef store, int maxBatch = DefaultMaxBatch, Func<TimeSpan>? backoff = null) =>
        Akka.Actor.Props.Create(typeof(NodeStatusWriter), store, maxBatch,
            backoff ?? (() => TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(2000))));

    private void Flush()
    {
        if (_paused || _inFlight is not null || _due.Count == 0) return;
        var count = Math.Min(_maxBatch, _due.Count);
        var batch = new List<Write>(count);
        var requests = new List<object>(count);
        for (var i = 0; i < count; i++)
        {
            var (node, request) = _due.GetAt(0);
            _due.RemoveAt(0);
            batch.Add(new Write(node, request));
            requests.Add(request);
        }
        _inFlight = batch;
        StoreCall.Send(Context, _store, new WriteObjects(requests), ++_sequence);
    }

    private void Answered(StoreReplied reply)
    {
        if (reply.Tag is not long sequence || sequence != _sequence || _inFlight is not { } batch) return;
        _inFlight = null;
        var answers = reply.Written?.Replies;
        var noAnswer = reply.Failed ?? new StoreFailed(StoreErrors.WriteFailed("the batch was not answered"));
        var refused = 0;
        StoreFailed? firstError = null;
        var errors = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var answer = answers is not null && i < answers.Count ? answers[i] : noAnswer;
            if (answer is not StoreFailed failed) continue;
            if (failed.Error.Code is 429 or >= 500)
            {
                refused++;
                _due.TryAdd(batch[i].Node, batch[i].Request); // a newer status of the node, if one came, goes instead
            }
            else if (failed.Error.Code != 404) // 404: the node was deleted meanwhile
            {
                errors++;
                firstError ??= failed;
            }
        }
        if (errors > 0) _log.Warning("{0} of {1} node status writes failed: {2}", errors, batch.Count, firstError!.Error.Message);
        if (refused > 0)
        {
            _paused = true;
            var delay = _backoff();
            _log.Debug("{0} of {1} node status writes refused, written again in {2}", refused, batch.Count, delay);
            Timers.StartSingleTimer("resume", Resume.Instance, delay);
        }
        Flush();
    }
}
