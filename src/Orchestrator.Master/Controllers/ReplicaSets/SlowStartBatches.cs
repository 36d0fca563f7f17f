using Orchestrator.Master.Store;

namespace Orchestrator.Master.Controllers.ReplicaSets;

/// <summary>What to do after starting a run or hearing one answer: the writes to send now (tagged with the run); and,
/// when a batch failed and ended the run, how many items were never sent (the caller lowers its expectations by that
/// many and syncs again later).</summary>
internal sealed record SlowStartStep<T>(long Run, IReadOnlyList<T> Send, bool Failed = false, int Skipped = 0)
{
    public static readonly SlowStartStep<T> Nothing = new(0, []);

    /// <summary>The run's last answer is in and every write of it succeeded.</summary>
    public bool Succeeded => Run != 0 && Send.Count == 0 && !Failed;
}

/// <summary>
/// Kubernetes' slowStartBatch (pkg/controller), for an actor that hears its answers one message at a time: the writes
/// for one owner go out in batches of 1, 2, 4, … and the next batch only once every answer of the last one is in; a
/// batch with a failure ends the run and the items never sent are handed back as skipped, for the next sync to start
/// again from one. A run that would fail as a whole (a quota, a full store) thus costs one refused write, not hundreds.
/// One run per owner at a time; <see cref="Cancel"/> drops a run whose owner is gone (its late answers are ignored).
/// </summary>
internal sealed class SlowStartBatches<T>
{
    /// <summary>Kubernetes' SlowStartInitialBatchSize.</summary>
    public const int InitialBatchSize = 1;

    private readonly Dictionary<ResourceKey, Run> _runs = new();
    private long _lastRun;

    private sealed class Run(long id, IEnumerable<T> items)
    {
        public readonly long Id = id;
        public readonly Queue<T> Pending = new(items);
        public int BatchSize = InitialBatchSize;
        public int Outstanding;
        public bool Failed;
    }

    /// <summary>True while an owner's run has writes unanswered or batches unsent: the owner must not start another.</summary>
    public bool InProgress(ResourceKey owner) => _runs.ContainsKey(owner);

    /// <summary>Starts a run over <paramref name="items"/> and returns its first batch.</summary>
    public SlowStartStep<T> Start(ResourceKey owner, IReadOnlyList<T> items)
    {
        if (items.Count == 0) return SlowStartStep<T>.Nothing;
        var run = new Run(++_lastRun, items);
        _runs[owner] = run;
        return NextBatch(run);
    }

    /// <summary>One write of <paramref name="runId"/> was answered. A failed write ends the run once its batch is in.</summary>
    public SlowStartStep<T> Answered(ResourceKey owner, long runId, bool succeeded)
    {
        if (!_runs.TryGetValue(owner, out var run) || run.Id != runId) return SlowStartStep<T>.Nothing;
        run.Outstanding--;
        if (!succeeded) run.Failed = true;
        if (run.Outstanding > 0) return SlowStartStep<T>.Nothing;
        if (run.Failed || run.Pending.Count == 0)
        {
            _runs.Remove(owner);
            return new SlowStartStep<T>(run.Id, [], run.Failed, run.Pending.Count);
        }
        run.BatchSize *= 2;
        return NextBatch(run);
    }

    /// <summary>Drops the owner's run (its late answers are ignored); returns how many items it had not sent yet.</summary>
    public int Cancel(ResourceKey owner) => _runs.Remove(owner, out var run) ? run.Pending.Count : 0;

    private static SlowStartStep<T> NextBatch(Run run)
    {
        var batch = new List<T>(Math.Min(run.BatchSize, run.Pending.Count));
        while (batch.Count < run.BatchSize && run.Pending.TryDequeue(out var item)) batch.Add(item);
        run.Outstanding = batch.Count;
        return new SlowStartStep<T>(run.Id, batch);
    }
}
