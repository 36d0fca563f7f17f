namespace Orchestrator.Node.Runtime;

/// <summary>The runtime's resource counters of one container (the kubelet's cAdvisor stats): what the node's stats
/// collector turns into rates. A seam of its own so that tests and runtimes without stats need not implement it.</summary>
internal interface IContainerStats
{
    /// <summary>The container's cumulative counters now; null when it is gone or not running.</summary>
    Task<ContainerStatsSample?> SampleAsync(string containerId, CancellationToken ct = default);
}

/// <summary>Cumulative CPU time (all cores, nanoseconds) and memory at <paramref name="Timestamp"/>. The working set is the
/// usage less the inactive file cache, as the kubelet computes it (what the OOM killer looks at).</summary>
internal sealed record ContainerStatsSample(DateTime Timestamp, ulong CpuUsageNanoSeconds, ulong MemoryUsageBytes, ulong MemoryWorkingSetBytes);
