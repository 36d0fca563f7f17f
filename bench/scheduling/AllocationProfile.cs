using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Orchestrator.Bench.Scheduling;

/// <summary>
/// --alloc-profile: the runtime's allocation sampling (GCAllocationTick, one event per ≈ 100 KB allocated on a heap,
/// naming the type of the object that crossed the mark) read in process, so a run can say which types its bytes go
/// to. The counts are samples: a type's share of the events estimates its share of the bytes. The verbose GC keyword
/// costs some CPU of its own, so the rate of a profiled run is not the bench's figure.
/// </summary>
internal sealed class AllocationProfile : EventListener
{
    private readonly ConcurrentDictionary<string, (long Events, long Bytes)> _byType = new();
    private volatile bool _recording;

    protected override void OnEventSourceCreated(EventSource source)
    {
        // GC keyword (0x1) at Verbose: GCAllocationTick
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        var type = e.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? e.Payload![t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload![a]) : 100_000;
        _byType.AddOrUpdate(type, (1, amount), (_, v) => (v.Events + 1, v.Bytes + amount));
    }

    public void Start()
    {
        _byType.Clear();
        _recording = true;
    }

    /// <summary>Stops recording and prints the types with the most sampled bytes, each as a share of
    /// <paramref name="allocated"/> (the bytes the process allocated over the same time) and per pod.</summary>
    public void Report(long allocated, int pods, int top = 30)
    {
        _recording = false;
        var total = _byType.Values.Sum(v => v.Bytes);
        Console.WriteLine($"    allocation samples: {_byType.Values.Sum(v => v.Events)} events, {total / 1e6:F0} MB sampled of {allocated / 1e6:F0} MB allocated; by type (share, est. bytes per pod):");
        foreach (var (type, v) in _byType.OrderByDescending(kv => kv.Value.Bytes).Take(top))
            Console.WriteLine($"      {100.0 * v.Bytes / Math.Max(1, total),5:F1}%  {(double)allocated * v.Bytes / Math.Max(1, total) / pods,8:F0} B  {type}");
    }
}
