using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Node.Agent.Stats;

/// <summary>The kubelet's two stats documents from one <see cref="UsageSnapshot"/>: <c>/stats/summary</c> (the
/// stats/v1alpha1 Summary metrics-server used to read) and <c>/metrics/resource</c> (Prometheus text with the kubelet's
/// stable metric names, what metrics-server reads today).</summary>
internal static class KubeletStats
{
    public static JsonObject Summary(UsageSnapshot snapshot)
    {
        var node = new JsonObject { ["nodeName"] = snapshot.NodeName, ["systemContainers"] = new JsonArray() };
        if (snapshot.Machine is { } m)
        {
            node["cpu"] = Cpu(m.Timestamp, snapshot.MachineCpuNanoCores, m.CpuUsageNanoSeconds);
            node["memory"] = new JsonObject { ["time"] = Time(m.Timestamp), ["workingSetBytes"] = m.MemoryWorkingSetBytes };
        }
        var pods = new JsonArray();
        foreach (var pod in snapshot.Containers.GroupBy(c => c.PodUid))
        {
            var all = pod.ToList();
            var containers = new JsonArray();
            foreach (var c in all.OrderBy(c => c.Container, StringComparer.Ordinal))
                containers.Add(new JsonObject
                {
                    ["name"] = c.Container,
                    ["startTime"] = Time(c.StartTime),
                    ["cpu"] = Cpu(c.Sample.Timestamp, snapshot.ContainerCpuNanoCores.TryGetValue(c.Id, out var r) ? r : null, c.Sample.CpuUsageNanoSeconds),
                    ["memory"] = Memory(c.Sample.Timestamp, c.Sample.MemoryUsageBytes, c.Sample.MemoryWorkingSetBytes),
                });
            var time = all.Max(c => c.Sample.Timestamp);
            var rates = all.Select(c => snapshot.ContainerCpuNanoCores.TryGetValue(c.Id, out var v) ? v : (long?)null).ToList();
            pods.Add(new JsonObject
            {
                ["podRef"] = new JsonObject { ["name"] = all[0].Pod, ["namespace"] = all[0].Namespace, ["uid"] = all[0].PodUid },
                ["startTime"] = Time(all.Min(c => c.StartTime)),
                ["containers"] = containers,
                ["cpu"] = Cpu(time, rates.All(v => v is not null) ? rates.Sum() : null, (ulong)all.Sum(c => (decimal)c.Sample.CpuUsageNanoSeconds)),
                ["memory"] = Memory(time, (ulong)all.Sum(c => (decimal)c.Sample.MemoryUsageBytes), (ulong)all.Sum(c => (decimal)c.Sample.MemoryWorkingSetBytes)),
            });
        }
        return new JsonObject { ["node"] = node, ["pods"] = pods };
    }

    private static JsonObject Cpu(DateTime time, long? nanoCores, ulong total)
    {
        var cpu = new JsonObject { ["time"] = Time(time) };
        if (nanoCores is { } n) cpu["usageNanoCores"] = n;
        cpu["usageCoreNanoSeconds"] = total;
        return cpu;
    }

    private static JsonObject Memory(DateTime time, ulong usage, ulong workingSet) =>
        new() { ["time"] = Time(time), ["usageBytes"] = usage, ["workingSetBytes"] = workingSet };

    private static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string ResourceMetrics(UsageSnapshot snapshot)
    {
        var text = new StringBuilder();
        var containers = snapshot.Containers.OrderBy(c => c.Namespace).ThenBy(c => c.Pod).ThenBy(c => c.Container).ToList();
        Family(text, "container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds", "counter",
            containers.Select(c => (ContainerLabels(c), Seconds(c.Sample.CpuUsageNanoSeconds), c.Sample.Timestamp)));
        Family(text, "container_memory_working_set_bytes", "Current working set of the container in bytes", "gauge",
            containers.Select(c => (ContainerLabels(c), (double)c.Sample.MemoryWorkingSetBytes, c.Sample.Timestamp)));
        Family(text, "container_start_time_seconds", "Start time of the container since unix epoch in seconds", "gauge",
            containers.Select(c => (ContainerLabels(c), (double)new DateTimeOffset(c.StartTime.ToUniversalTime()).ToUnixTimeSeconds(), c.StartTime)));
        var machine = snapshot.Machine is { } m ? new[] { m } : [];
        Family(text, "node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", "counter",
            machine.Select(x => ("", Seconds(x.CpuUsageNanoSeconds), x.Timestamp)));
        Family(text, "node_memory_working_set_bytes", "Current working set of the node in bytes", "gauge",
            machine.Select(x => ("", (double)x.MemoryWorkingSetBytes, x.Timestamp)));
        var pods = containers.GroupBy(c => c.PodUid).Select(g => g.ToList()).ToList();
        Family(text, "pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", "counter",
            pods.Select(p => (PodLabels(p[0]), p.Sum(c => Seconds(c.Sample.CpuUsageNanoSeconds)), p.Max(c => c.Sample.Timestamp))));
        Family(text, "pod_memory_working_set_bytes", "Current working set of the pod in bytes", "gauge",
            pods.Select(p => (PodLabels(p[0]), p.Sum(c => (double)c.Sample.MemoryWorkingSetBytes), p.Max(c => c.Sample.Timestamp))));
        Family(text, "resource_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", "gauge",
            [("", snapshot.Machine is null ? 1d : 0d, default(DateTime))]);
        return text.ToString();
    }

    private static double Seconds(ulong nanoseconds) => nanoseconds / 1e9;

    private static string ContainerLabels(ContainerCounters c) =>
        $"container=\"{Escape(c.Container)}\",namespace=\"{Escape(c.Namespace)}\",pod=\"{Escape(c.Pod)}\"";

    private static string PodLabels(ContainerCounters c) => $"namespace=\"{Escape(c.Namespace)}\",pod=\"{Escape(c.Pod)}\"";

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private static void Family(StringBuilder text, string name, string help, string type, IEnumerable<(string Labels, double Value, DateTime At)> samples)
    {
        text.Append("# HELP ").Append(name).Append(" [STABLE] ").Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value, at) in samples)
        {
            text.Append(name);
            if (labels.Length > 0) text.Append('{').Append(labels).Append('}');
            text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture));
            if (at != default) text.Append(' ').Append(new DateTimeOffset(at.ToUniversalTime()).ToUnixTimeMilliseconds());
            text.Append('\n');
        }
    }
}
