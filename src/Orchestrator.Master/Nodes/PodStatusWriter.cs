using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The node gateway's pod status writes to the store, in batches (a child of the gateway, so the store names the
/// kubelet as their field manager). One batch — one <see cref="WriteObjects"/>, one entry in the store's write queue
/// however many pods it carries — is with the store at a time; the writes that arrive meanwhile go together in the next,
/// in the order they came, at most <c>maxBatch</c> in one. Before, every status was a write of its own: 5,000 nodes
/// starting pods filled the store's queue of 1,000 writes and were answered 429 by the ten thousand.
/// <para>A child of its own rather than the gateway's loop: the next batch goes as soon as the store answers, not once
/// the answer has waited behind the gateway's mailbox (every pod change of the cluster, every node's report) — with
/// 100,000 pods that wait was seconds, and a batch per wait held the status writes to a few hundred a second.</para>
/// <para>Every answer goes back to the gateway (<see cref="Written"/>, in the batch's order), which keeps one write per
/// pod outstanding, merges conflicts again and writes refused ones again. A batch refused for a full queue or a failing
/// journal (429, 5xx, no answer in time) holds the next back for a while (backpressure; the gateway's reports meanwhile
/// wait here, at most one per pod).</para>
/// </summary>
internal sealed class PodStatusWriter : ReceiveActor, IWithTimers
{
    public const int DefaultMaxBatch = 1000;

    /// <summary>Gateway → writer: the /status write of <paramref name="Report"/> (handed over: built for this write alone).</summary>
    public sealed record Write(PodStatusReported Report, UpdateObject Request);

    /// <summary>Writer → gateway: the store's answer to each write of a batch (<see cref="ObjectStored"/> or
    /// <see cref="StoreFailed"/>), in the batch's order.</summary>
    public sealed record Written(IReadOnlyList<(PodStatusReported Report, object Answer)> Answers);

    private sealed record Resume
    {
        public static readonly Resume Instance = new();
    }

    private readonly IActorRef _store;
    private readonly int _maxBatch;
    private readonly Func<TimeSpan> _backoff;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<Write> _due = new();
    private List<Write>? _inFlight;
    private long _sequence;
    private bool _paused;

    public ITimerScheduler Timers { get; set; } = null!;

    public PodStatusWriter(IActorRef store, int maxBatch, Func<TimeSpan> backoff)
    {
        _store = store;
        _maxBatch = maxBatch;
        _backoff = backoff;
        Receive<Write>(write =>
        {
            _due.Enqueue(write);
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
        Akka.Actor.Props.Create(typeof(PodStatusWriter), store, maxBatch,
            backoff ?? (() => TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(2000))));

    private void Flush()
    {
        if (_paused || _inFlight is not null || _due.Count == 0) return;
        var batch = new List<Write>(Math.Min(_maxBatch, _due.Count));
        while (batch.Count < _maxBatch && _due.TryDequeue(out var write)) batch.Add(write);
        var requests = new List<object>(batch.Count);
        foreach (var write in batch) requests.Add(write.Request);
        _inFlight = batch;
        StoreCall.Send(Context, _store, new WriteObjects(requests), ++_sequence);
    }

    /// <summary>A restart (only a bug can cause one) answers every write held here as failed, so the gateway writes
    /// each pod's report again instead of waiting for it forever; the batch's store call is stopped with it.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        var held = (_inFlight ?? []).Concat(_due).ToList();
        if (held.Count > 0)
        {
            var failed = new StoreFailed(StoreErrors.WriteFailed($"the pod status writer restarted: {reason.Message}"));
            Context.Parent.Tell(new Written(held.Select(w => (w.Report, (object)failed)).ToList()));
        }
        base.PreRestart(reason, message);
    }

    private void Answered(StoreReplied reply)
    {
        if (reply.Tag is not long sequence || sequence != _sequence || _inFlight is not { } batch) return;
        _inFlight = null;
        var answers = reply.Written?.Replies;
        var noAnswer = reply.Failed ?? new StoreFailed(StoreErrors.WriteFailed("the batch was not answered"));
        var written = new List<(PodStatusReported, object)>(batch.Count);
        var refused = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var answer = answers is not null && i < answers.Count ? answers[i] : noAnswer;
            if (answer is StoreFailed { Error.Code: 429 or >= 500 }) refused++;
            written.Add((batch[i].Report, answer));
        }
        Context.Parent.Tell(new Written(written));
        if (refused > 0)
        {
            _paused = true;
            var delay = _backoff();
            _log.Debug("{0} of {1} pod status writes refused, the next batch in {2}", refused, batch.Count, delay);
            Timers.StartSingleTimer("resume", Resume.Instance, delay);
        }
        Flush();
    }
}
