using Akka.Actor;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The node gateway's pod status writes to the store, in batches (<see cref="BatchedStatusWriter{TWrite}"/>): the writes
/// that arrive while a batch is with the store go together in the next, in the order they came. Before, every status
/// was a write of its own: 5,000 nodes starting pods filled the store's queue of 1,000 writes and were answered 429 by
/// the ten thousand.
/// <para>A child of its own rather than the gateway's loop: the next batch goes as soon as the store answers, not once
/// the answer has waited behind the gateway's mailbox (every pod change of the cluster, every node's report) — with
/// 100,000 pods that wait was seconds, and a batch per wait held the status writes to a few hundred a second.</para>
/// <para>Every answer goes back to the gateway (<see cref="Written"/>, in the batch's order), which keeps one write per
/// pod outstanding, merges conflicts again and writes refused ones again. A batch refused for a full queue or a failing
/// journal (429, 5xx, no answer in time) holds the next back for a while (backpressure; the gateway's reports meanwhile
/// wait here, at most one per pod).</para>
/// </summary>
internal sealed class PodStatusWriter : BatchedStatusWriter<PodStatusWriter.Write>
{
    /// <summary>Gateway → writer: the /status write of <paramref name="Report"/> (handed over: built for this write alone).</summary>
    public sealed record Write(PodStatusReported Report, UpdateObject Request);

    /// <summary>Writer → gateway: the store's answer to each write of a batch (<see cref="ObjectStored"/> or
    /// <see cref="StoreFailed"/>), in the batch's order.</summary>
    public sealed record Written(IReadOnlyList<(PodStatusReported Report, object Answer)> Answers);

    private readonly Queue<Write> _due = new();

    public PodStatusWriter(IActorRef store, int maxBatch, Func<TimeSpan> backoff) : base(store, maxBatch, backoff)
    {
        Receive<Write>(write =>
        {
            _due.Enqueue(write);
            Flush();
        });
    }

    /// <param name="backoff">How long the next batch waits after one was refused (429, 5xx).</param>
    public static Props Props(IActorRef store, int maxBatch = DefaultMaxBatch, Func<TimeSpan>? backoff = null) =>
        Akka.Actor.Props.Create(typeof(PodStatusWriter), store, maxBatch, backoff ?? DefaultBackoff);

    protected override string What => "pod status";
    protected override int DueCount => _due.Count;
    protected override Write TakeDue() => _due.Dequeue();
    protected override UpdateObject RequestOf(Write write) => write.Request;

    protected override void OnAnswered(IReadOnlyList<Write> batch, IReadOnlyList<object> answers)
    {
        var written = new List<(PodStatusReported, object)>(batch.Count);
        for (var i = 0; i < batch.Count; i++) written.Add((batch[i].Report, answers[i]));
        Context.Parent.Tell(new Written(written));
    }

    /// <summary>A restart (only a bug can cause one) answers every write held here as failed, so the gateway writes
    /// each pod's report again instead of waiting for it forever; the batch's store call is stopped with it.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        var held = (InFlight ?? []).Concat(_due).ToList();
        if (held.Count > 0)
        {
            var failed = new StoreFailed(StoreErrors.WriteFailed($"the pod status writer restarted: {reason.Message}"));
            Context.Parent.Tell(new Written(held.Select(w => (w.Report, (object)failed)).ToList()));
        }
        base.PreRestart(reason, message);
    }
}
