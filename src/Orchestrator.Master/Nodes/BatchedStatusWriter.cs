using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The shape the node gateway's status writers share (<see cref="PodStatusWriter"/>, <see cref="NodeStatusWriter"/>):
/// a child of the gateway, so the store names the kubelet as the writes' field manager, that keeps one batch — one
/// <see cref="WriteObjects"/>, one entry in the store's write queue however many objects it carries — with the store at
/// a time; the writes due meanwhile go together in the next, at most <c>maxBatch</c> in one, in the order the subclass
/// gives them. A batch of which the store refused any write for a full queue or a failing journal (429, 5xx, no answer
/// in time) holds the next back for a while (backpressure). What is due, and what an answer means, is the subclass's.
/// </summary>
internal abstract class BatchedStatusWriter<TWrite> : ReceiveActor, IWithTimers
{
    public const int DefaultMaxBatch = 1000;

    private sealed record Resume
    {
        public static readonly Resume Instance = new();
    }

    private readonly IActorRef _store;
    private readonly int _maxBatch;
    private readonly Func<TimeSpan> _backoff;
    private long _sequence;
    private bool _paused;

    public ITimerScheduler Timers { get; set; } = null!;
    protected ILoggingAdapter Log { get; } = Context.GetLogger();

    /// <summary>The batch with the store (null when none is).</summary>
    protected IReadOnlyList<TWrite>? InFlight { get; private set; }

    /// <param name="backoff">How long the next batch waits after one was refused (429, 5xx).</param>
    protected BatchedStatusWriter(IActorRef store, int maxBatch, Func<TimeSpan> backoff)
    {
        _store = store;
        _maxBatch = maxBatch;
        _backoff = backoff;
        Receive<StoreReplied>(Answered);
        Receive<Resume>(_ =>
        {
            _paused = false;
            Flush();
        });
    }

    /// <summary>The pause after a refused batch: 1–3 s.</summary>
    protected static TimeSpan DefaultBackoff() => TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(2000));

    /// <summary>What the log calls these writes ("pod status").</summary>
    protected abstract string What { get; }

    /// <summary>How many writes are due (not with the store).</summary>
    protected abstract int DueCount { get; }

    /// <summary>Takes the next due write out (the oldest first).</summary>
    protected abstract TWrite TakeDue();

    protected abstract UpdateObject RequestOf(TWrite write);

    /// <summary>The store's answer to each write of a batch (<see cref="ObjectStored"/> or <see cref="StoreFailed"/>),
    /// in the batch's order; the next batch goes after this.</summary>
    protected abstract void OnAnswered(IReadOnlyList<TWrite> batch, IReadOnlyList<object> answers);

    /// <summary>Sends the due writes as the next batch, unless one is with the store or the store asked to wait.</summary>
    protected void Flush()
    {
        if (_paused || InFlight is not null || DueCount == 0) return;
        var count = Math.Min(_maxBatch, DueCount);
        var batch = new List<TWrite>(count);
        var requests = new List<object>(count);
        for (var i = 0; i < count; i++)
        {
            var write = TakeDue();
            batch.Add(write);
            requests.Add(RequestOf(write));
        }
        InFlight = batch;
        StoreCall.Send(Context, _store, new WriteObjects(requests), ++_sequence);
    }

    private void Answered(StoreReplied reply)
    {
        if (reply.Tag is not long sequence || sequence != _sequence || InFlight is not { } batch) return;
        InFlight = null;
        var replies = reply.Written?.Replies;
        var noAnswer = reply.Failed ?? new StoreFailed(StoreErrors.WriteFailed("the batch was not answered"));
        var answers = new object[batch.Count];
        var refused = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            answers[i] = replies is not null && i < replies.Count ? replies[i] : noAnswer;
            if (answers[i] is StoreFailed { Error.Code: 429 or >= 500 }) refused++;
        }
        OnAnswered(batch, answers);
        if (refused > 0)
        {
            _paused = true;
            var delay = _backoff();
            Log.Debug("{0} of {1} {2} writes refused, the next batch in {3}", refused, batch.Count, What, delay);
            Timers.StartSingleTimer("resume", Resume.Instance, delay);
        }
        Flush();
    }
}
