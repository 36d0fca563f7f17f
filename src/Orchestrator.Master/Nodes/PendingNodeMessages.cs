using Akka.Actor;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The node messages the gateway holds while its caches are not yet synced, bounded. The newest registration and
/// heartbeat of each node and the newest status of each pod replace older ones in place (a node's state is level-
/// triggered: only the last one counts); events are kept up to <see cref="MaxEvents"/>; past <see cref="MaxEntries"/>
/// in all, a message is dropped. Nothing dropped is lost for good: a node sends its whole state again after it is
/// registered (statuses on registration, heartbeats every few seconds).
/// </summary>
internal sealed class PendingNodeMessages(int maxEntries = PendingNodeMessages.MaxEntries, int maxEvents = PendingNodeMessages.MaxEvents)
{
    public const int MaxEntries = 10_000;
    public const int MaxEvents = 1_000;

    private readonly LinkedList<(object Message, IActorRef Sender)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(object Message, IActorRef Sender)>> _byKey = new(StringComparer.Ordinal);
    private int _events;

    public int Count => _order.Count;

    /// <summary>Holds <paramref name="message"/>; returns what was dropped instead ("event", "status", …), or null.</summary>
    public string? Add(INodeProtocolMessage message, IActorRef sender)
    {
        var key = message switch
        {
            RegisterNode r => "register/" + r.Node.Metadata?.Name,
            NodeHeartbeat h => "heartbeat/" + h.NodeName,
            NodeMetricsReported m => "metrics/" + m.NodeName,
            PodStatusReported s => "status/" + s.Uid,
            _ => null,
        };
        if (key is not null && _byKey.TryGetValue(key, out var held))
        {
            held.Value = (message, sender); // coalesced: the newest wins, in the place of the first
            return null;
        }
        var kind = KindOf(message);
        if (_order.Count >= maxEntries || (key is null && _events >= maxEvents)) return kind;
        var node = _order.AddLast((message, sender));
        if (key is not null) _byKey[key] = node;
        else _events++;
        return null;
    }

    /// <summary>Everything held, oldest first, and empty again.</summary>
    public List<(object Message, IActorRef Sender)> Drain()
    {
        var all = _order.ToList();
        _order.Clear();
        _byKey.Clear();
        _events = 0;
        return all;
    }

    public static string KindOf(INodeProtocolMessage message) => message switch
    {
        RegisterNode => "register",
        NodeHeartbeat => "heartbeat",
        NodeMetricsReported => "metrics",
        PodStatusReported => "pod_status",
        NodeEventReported => "event",
        _ => "other",
    };
}
