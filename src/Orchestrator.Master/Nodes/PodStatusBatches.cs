using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>
/// The pod status reports the gateway has yet to store, and which of them go to the store together. Nodes report a pod's
/// status once per change, so each pod's newest report is kept (by UID) until it is stored: a newer report replaces an
/// older one not yet sent (the kubelet's status manager, too, writes only a pod's latest status). One batch is with the
/// store at a time — one <c>WriteObjects</c>, one entry in the store's write queue however many pods it carries —
/// and the reports that arrive meanwhile wait for the next, oldest first, at most <c>maxBatch</c> in one. Before, every
/// report was a write of its own: 5,000 nodes starting pods filled the store's queue of 1,000 writes and were answered
/// 429 by the ten thousand.
/// <para>Per pod the writes are in the order reported and never overlap: a pod's report is not sent while its previous
/// one is in flight; once that is answered the newest report goes (merged over the pod the answer returned). A report
/// refused for now (<see cref="Refused"/>, <see cref="Conflicted"/>) stays the pod's newest unless a newer one came;
/// nothing is forgotten but by <see cref="Settled"/> or <see cref="Forget"/>.</para>
/// </summary>
internal sealed class PodStatusBatches(int maxBatch = PodStatusBatches.DefaultMaxBatch)
{
    public const int DefaultMaxBatch = 1000;

    private readonly Dictionary<string, PodStatusReported> _newest = new(StringComparer.Ordinal); // not yet stored, by uid
    private readonly LinkedList<string> _due = new(); // uids to send in the next batch, oldest first
    private readonly Dictionary<string, LinkedListNode<string>> _dueNodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private bool _batchInFlight;

    /// <summary>Pods whose newest report is not yet stored.</summary>
    public int Unwritten => _newest.Count;

    /// <summary>Pods waiting for the next batch.</summary>
    public int Due => _due.Count;

    public bool BatchInFlight => _batchInFlight;

    public bool IsUnwritten(string uid) => _newest.ContainsKey(uid);

    public PodStatusReported? Newest(string uid) => _newest.GetValueOrDefault(uid);

    /// <summary>A pod's new report: its newest from now on; due in the next batch unless its previous write is in flight
    /// (then due when that is answered).</summary>
    public void Report(PodStatusReported report)
    {
        _newest[report.Uid] = report;
        if (!_inFlight.Contains(report.Uid)) MarkDue(report.Uid, first: false);
    }

    /// <summary>The newest reports of the pods due, oldest first, at most the batch size — now in flight until
    /// <see cref="Settled"/>, <see cref="Refused"/>, <see cref="Conflicted"/> or <see cref="Forget"/> each, and the batch <see cref="Answered"/>.
    /// None while a batch is in flight.</summary>
    public IReadOnlyList<PodStatusReported> TakeBatch()
    {
        if (_batchInFlight || _due.Count == 0) return [];
        var batch = new List<PodStatusReported>(Math.Min(maxBatch, _due.Count));
        while (batch.Count < maxBatch && _due.First is { } first)
        {
            _due.RemoveFirst();
            _dueNodes.Remove(first.Value);
            batch.Add(_newest[first.Value]);
            _inFlight.Add(first.Value);
        }
        _batchInFlight = true;
        return batch;
    }

    /// <summary>The batch in flight was answered (or nothing of it was sent): the next one may go.</summary>
    public void Answered() => _batchInFlight = false;

    /// <summary><paramref name="report"/> was stored (or needs no write, or can never be written): done, unless a newer
    /// report of the pod came meanwhile — that one is due now.</summary>
    public void Settled(PodStatusReported report)
    {
        _inFlight.Remove(report.Uid);
        if (_newest.TryGetValue(report.Uid, out var newest) && ReferenceEquals(newest, report)) _newest.Remove(report.Uid);
        else if (newest is not null) MarkDue(report.Uid, first: false);
    }

    /// <summary>The reports of <paramref name="refused"/> were refused for now (a full queue, a store that cannot write):
    /// each pod's newest report is due again ahead of those that came after them, in the same order.</summary>
    public void Refused(IReadOnlyList<PodStatusReported> refused)
    {
        for (var i = refused.Count - 1; i >= 0; i--)
        {
            var uid = refused[i].Uid;
            _inFlight.Remove(uid);
            if (_newest.ContainsKey(uid)) MarkDue(uid, first: true);
        }
    }

    /// <summary><paramref name="report"/> met a newer version of its pod than it was merged with: written again once
    /// <see cref="Requeue"/> is called (when the cache may have brought that version), or at once if a newer report came
    /// meanwhile.</summary>
    public void Conflicted(PodStatusReported report)
    {
        _inFlight.Remove(report.Uid);
        if (_newest.TryGetValue(report.Uid, out var newest) && !ReferenceEquals(newest, report)) MarkDue(report.Uid, first: false);
    }

    /// <summary>A pod waiting after a conflict is due again (nothing happens when it was stored or is in flight meanwhile).</summary>
    public void Requeue(string uid)
    {
        if (_newest.ContainsKey(uid) && !_inFlight.Contains(uid)) MarkDue(uid, first: false);
    }

    /// <summary>The pod's reports are dropped (its node's agent is gone: a new one reports for itself).</summary>
    public void Forget(string uid)
    {
        _newest.Remove(uid);
        _inFlight.Remove(uid);
        if (_dueNodes.Remove(uid, out var node)) _due.Remove(node);
    }

    private void MarkDue(string uid, bool first)
    {
        if (_dueNodes.TryGetValue(uid, out var node))
        {
            if (!first) return; // keeps its place
            _due.Remove(node);
        }
        _dueNodes[uid] = first ? _due.AddFirst(uid) : _due.AddLast(uid);
    }
}
