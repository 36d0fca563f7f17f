namespace Orchestrator.Node.Agent.Stats;

/// <summary>The newest <see cref="UsageSnapshot"/> of this node, swapped whole by the collector and read by the kubelet
/// endpoint; subscribers (the agent, which reports to the master) hear of each new one.</summary>
internal sealed class NodeResourceUsage(string nodeName)
{
    private readonly object _gate = new();
    private readonly List<Action<UsageSnapshot>> _subscribers = new();

    public UsageSnapshot Current { get; private set; } = UsageSnapshot.Empty(nodeName);

    public void Publish(UsageSnapshot snapshot)
    {
        Action<UsageSnapshot>[] subscribers;
        lock (_gate)
        {
            Current = snapshot;
            subscribers = _subscribers.ToArray();
        }
        foreach (var s in subscribers) s(snapshot);
    }

    /// <summary>Calls <paramref name="onChange"/> on every new snapshot until the returned handle is disposed.</summary>
    public IDisposable Subscribe(Action<UsageSnapshot> onChange)
    {
        lock (_gate) _subscribers.Add(onChange);
        return new Subscription(() => { lock (_gate) _subscribers.Remove(onChange); });
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
