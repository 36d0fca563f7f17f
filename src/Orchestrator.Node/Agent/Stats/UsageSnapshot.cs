using Orchestrator.Node.Runtime;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Node.Agent.Stats;

/// <summary>One container's cumulative counters as sampled, with the pod it belongs to (from the runtime's labels).</summary>
internal sealed record ContainerCounters(string Id, string Namespace, string Pod, string PodUid, string Container, DateTime StartTime,
    ContainerStatsSample Sample);

/// <summary>The machine's cumulative counters at <paramref name="Timestamp"/>.</summary>
internal sealed record MachineCounters(DateTime Timestamp, ulong CpuUsageNanoSeconds, ulong MemoryWorkingSetBytes);

/// <summary>
/// One round of the node's stats: the cumulative counters (what /metrics/resource and /stats/summary print) and the
/// rates over the window since the round before (what the master's metrics API serves). A container or the machine
/// seen for the first time has counters but no rate yet, as with cAdvisor; a pod is reported only when every one of
/// its sampled containers has a rate, as metrics-server drops pods with a container missing.
/// </summary>
internal sealed record UsageSnapshot(string NodeName, MachineCounters? Machine, long? MachineCpuNanoCores, double MachineWindowSeconds,
    IReadOnlyList<ContainerCounters> Containers, IReadOnlyDictionary<string, long> ContainerCpuNanoCores, IReadOnlyDictionary<string, double> ContainerWindows)
{
    public static UsageSnapshot Empty(string nodeName) =>
        new(nodeName, null, null, 0, [], new Dictionary<string, long>(), new Dictionary<string, double>());

    /// <summary>This round's counters against <paramref name="previous"/>'s (by container id; a restarted container is a new id).</summary>
    public static UsageSnapshot Next(UsageSnapshot? previous, string nodeName, MachineCounters? machine, IReadOnlyList<ContainerCounters> containers)
    {
        var before = previous?.Containers.ToDictionary(c => c.Id) ?? new Dictionary<string, ContainerCounters>();
        var rates = new Dictionary<string, long>();
        var windows = new Dictionary<string, double>();
        foreach (var c in containers)
        {
            if (!before.TryGetValue(c.Id, out var old)) continue;
            if (Rate(old.Sample.Timestamp, old.Sample.CpuUsageNanoSeconds, c.Sample.Timestamp, c.Sample.CpuUsageNanoSeconds) is not { } rate) continue;
            rates[c.Id] = rate.NanoCores;
            windows[c.Id] = rate.Seconds;
        }
        long? machineRate = null;
        double machineWindow = 0;
        if (machine is not null && previous?.Machine is { } m &&
            Rate(m.Timestamp, m.CpuUsageNanoSeconds, machine.Timestamp, machine.CpuUsageNanoSeconds) is { } r)
            (machineRate, machineWindow) = (r.NanoCores, r.Seconds);
        return new UsageSnapshot(nodeName, machine, machineRate, machineWindow, containers, rates, windows);
    }

    /// <summary>CPU nanoseconds per second over the interval (cores × 1e9); none when time did not move or the counter went back.</summary>
    internal static (long NanoCores, double Seconds)? Rate(DateTime from, ulong fromNs, DateTime to, ulong toNs)
    {
        var seconds = (to - from).TotalSeconds;
        if (seconds <= 0 || toNs < fromNs) return null;
        return ((long)Math.Round((toNs - fromNs) / seconds), seconds);
    }

    /// <summary>What the master keeps: the node's usage (when it has a rate) and each pod whose containers all have one.</summary>
    public NodeMetricsReported? Report()
    {
        if (Machine is null || MachineCpuNanoCores is not { } cpu) return null;
        var pods = new List<PodUsage>();
        foreach (var pod in Containers.GroupBy(c => c.PodUid))
        {
            var all = pod.ToList();
            if (all.Any(c => !ContainerCpuNanoCores.ContainsKey(c.Id))) continue;
            var first = all[0];
            pods.Add(new PodUsage(first.Namespace, first.Pod, first.PodUid, all.Max(c => c.Sample.Timestamp), all.Max(c => ContainerWindows[c.Id]),
                all.OrderBy(c => c.Container, StringComparer.Ordinal)
                    .Select(c => new ContainerUsage(c.Container, ContainerCpuNanoCores[c.Id], (long)c.Sample.MemoryWorkingSetBytes)).ToList()));
        }
        return new NodeMetricsReported(NodeName, new NodeUsage(Machine.Timestamp, MachineWindowSeconds, cpu, (long)Machine.MemoryWorkingSetBytes), pods);
    }
}
