namespace Orchestrator.Master.Nodes;

/// <summary>
/// Coalesces the node lease renewals of many nodes into one store write (one journal record): renewals asked for while
/// a batch is being stored wait for the next one, so at most one batch is in flight and each carries every node that
/// heartbeated meanwhile — at 1,000 nodes renewing every 10 s, a few writes a second instead of a hundred. A node asked
/// for twice before its batch goes is renewed once. A batch whose answer never came is given up after
/// <see cref="AnswerTimeout"/> (its nodes renew again on their next heartbeat).
/// </summary>
internal sealed class LeaseRenewals(int maxBatch = LeaseRenewals.DefaultMaxBatch)
{
    public const int DefaultMaxBatch = 500;
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly List<string> _due = new();
    private readonly HashSet<string> _dueSet = new(StringComparer.Ordinal);
    private DateTime? _inFlightSince;

    public int Waiting => _due.Count;

    public void Due(string node)
    {
        if (_dueSet.Add(node)) _due.Add(node);
    }

    /// <summary>The nodes to renew in one write now, oldest request first; none while a batch is in flight.</summary>
    public IReadOnlyList<string> TakeBatch(DateTime now)
    {
        if (_inFlightSince is { } since && now - since < AnswerTimeout) return [];
        _inFlightSince = null;
        if (_due.Count == 0) return [];
        var batch = _due.Take(maxBatch).ToList();
        _due.RemoveRange(0, batch.Count);
        _dueSet.ExceptWith(batch);
        _inFlightSince = now;
        return batch;
    }

    /// <summary>The batch in flight was answered (or not sent after all).</summary>
    public void Answered() => _inFlightSince = null;
}
