using Akka.Actor;
using Akka.Event;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The node gateway's Node /status writes to the store, in batches (<see cref="BatchedStatusWriter{TWrite}"/>). Before,
/// every Node status was a store write of its own: 5,000 nodes' first heartbeats after a mass registration came within
/// a second and the store's queue of 1,000 writes refused thousands of them with 429.
/// <para>The writes that arrive while a batch is with the store go in the next, oldest node first. A node has at most
/// one write waiting: a newer status
/// takes the place of the waiting one (the status is the node's whole report, written without a resourceVersion, so the
/// last one wins as it did). A write refused for a full queue or a failing journal (429, 5xx, no answer in time) is
/// written again after a pause, unless a newer status of its node is waiting by then; the gateway is not answered (its
/// writes were fire-and-forget, and stay so).</para>
/// </summary>
internal sealed class NodeStatusWriter : BatchedStatusWriter<NodeStatusWriter.Write>
{
    /// <summary>Gateway → writer: the /status write of node <paramref name="Node"/>.</summary>
    public sealed record Write(string Node, UpdateObject Request);

    // by node, in the order their first waiting write came (a newer one keeps the node's place)
    private readonly OrderedDictionary<string, UpdateObject> _due = new(StringComparer.Ordinal);

    public NodeStatusWriter(IActorRef store, int maxBatch, Func<TimeSpan> backoff) : base(store, maxBatch, backoff)
    {
        Receive<Write>(write =>
        {
            _due[write.Node] = write.Request;
            Flush();
        });
    }

    /// <param name="backoff">How long the next batch waits after one was refused (429, 5xx).</param>
    public static Props Props(IActorRef store, int maxBatch = DefaultMaxBatch, Func<TimeSpan>? backoff = null) =>
        Akka.Actor.Props.Create(typeof(NodeStatusWriter), store, maxBatch, backoff ?? DefaultBackoff);

    protected override string What => "node status";
    protected override int DueCount => _due.Count;
    protected override UpdateObject RequestOf(Write write) => write.Request;

    protected override Write TakeDue()
    {
        var (node, request) = _due.GetAt(0);
        _due.RemoveAt(0);
        return new Write(node, request);
    }

    protected override void OnAnswered(IReadOnlyList<Write> batch, IReadOnlyList<object> answers)
    {
        StoreFailed? firstError = null;
        var errors = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (answers[i] is not StoreFailed failed) continue;
            if (failed.Error.Code is 429 or >= 500)
                _due.TryAdd(batch[i].Node, batch[i].Request); // written again after the pause; a newer status of the node, if one came, instead
            else if (failed.Error.Code != 404) // 404: the node was deleted meanwhile
            {
                errors++;
                firstError ??= failed;
            }
        }
        if (errors > 0) Log.Warning("{0} of {1} node status writes failed: {2}", errors, batch.Count, firstError!.Error.Message);
    }
}
