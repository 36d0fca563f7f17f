using Orchestrator.Node.Agent.Stats;
using Orchestrator.Node.Host;
using Orchestrator.Node.Runtime;
using Xunit;

namespace Orchestrator.Node.Tests.Agent.Stats;

/// <summary>From cumulative counters to what the master keeps and the kubelet endpoint prints.</summary>
public sealed class UsageSnapshotTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private static ContainerCounters Container(string id, string pod, string name, DateTime at, ulong cpuNs, ulong workingSet = 50 << 20) =>
        new(id, "default", pod, "uid-" + pod, name, T0.AddMinutes(-1), new ContainerStatsSample(at, cpuNs, workingSet + 1000, workingSet));

    [Fact]
    public void Cpu_is_the_rate_between_two_samples_in_nanocores()
    {
        var first = UsageSnapshot.Next(null, "n1", new MachineCounters(T0, 1_000_000_000, 1 << 30), [Container("c1", "web", "app", T0, 1_000_000_000)]);
        Assert.Null(first.Report()); // one sample: no rate yet
        var second = UsageSnapshot.Next(first, "n1", new MachineCounters(T0.AddSeconds(10), 11_000_000_000, 1 << 30),
            [Container("c1", "web", "app", T0.AddSeconds(10), 3_000_000_000)]);
        var report = second.Report()!;
        Assert.Equal(1_000_000_000, report.Node.CpuNanoCores); // 10 s of CPU in 10 s: one core
        Assert.Equal(10, report.Node.WindowSeconds);
        var pod = Assert.Single(report.Pods);
        Assert.Equal(("default", "web", "uid-web"), (pod.Namespace, pod.Name, pod.Uid));
        var container = Assert.Single(pod.Containers);
        Assert.Equal(200_000_000, container.CpuNanoCores); // 2 s in 10 s: 200m
        Assert.Equal(50L << 20, container.MemoryWorkingSetBytes);
    }

    [Fact]
    public void A_pod_with_a_container_seen_once_is_not_reported_yet()
    {
        var first = UsageSnapshot.Next(null, "n1", new MachineCounters(T0, 0, 1), [Container("c1", "web", "app", T0, 0)]);
        var second = UsageSnapshot.Next(first, "n1", new MachineCounters(T0.AddSeconds(10), 10, 1),
            [Container("c1", "web", "app", T0.AddSeconds(10), 10), Container("c2", "web", "sidecar", T0.AddSeconds(10), 10)]);
        Assert.Empty(second.Report()!.Pods);
    }

    [Fact]
    public void The_machine_counters_come_from_proc()
    {
        Assert.Equal((ulong)(100 + 20 + 30 + 5 + 6 + 7) * 10_000_000, MachineUsage.ParseCpuLine("cpu  100 20 30 4000 50 5 6 7 0 0"));
        Assert.Equal((ulong)(1000 - 200 - 300) * 1024,
            MachineUsage.ParseWorkingSet(["MemTotal:        1000 kB", "MemFree:          200 kB", "Inactive(file):   300 kB"]));
    }

    [Fact]
    public void The_resource_metrics_use_the_kubelets_names()
    {
        var first = UsageSnapshot.Next(null, "n1", new MachineCounters(T0, 0, 1), [Container("c1", "web", "app", T0, 0)]);
        var text = KubeletStats.ResourceMetrics(UsageSnapshot.Next(first, "n1", new MachineCounters(T0.AddSeconds(10), 5_000_000_000, 4096),
            [Container("c1", "web", "app", T0.AddSeconds(10), 2_500_000_000)]));
        Assert.Contains("# TYPE container_cpu_usage_seconds_total counter", text);
        Assert.Contains("container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web\"} 2.5 ", text);
        Assert.Contains("container_memory_working_set_bytes{container=\"app\",namespace=\"default\",pod=\"web\"} 52428800 ", text);
        Assert.Contains("node_cpu_usage_seconds_total 5 ", text);
        Assert.Contains("node_memory_working_set_bytes 4096 ", text);
        Assert.Contains("pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\"} 2.5 ", text);
        Assert.Contains("resource_scrape_error 0\n", text);
    }

    [Fact]
    public void The_summary_has_usage_nano_cores_once_there_is_a_rate()
    {
        var first = UsageSnapshot.Next(null, "n1", new MachineCounters(T0, 0, 1), [Container("c1", "web", "app", T0, 0)]);
        var summary = KubeletStats.Summary(UsageSnapshot.Next(first, "n1", new MachineCounters(T0.AddSeconds(10), 10_000_000_000, 4096),
            [Container("c1", "web", "app", T0.AddSeconds(10), 1_000_000_000)]));
        Assert.Equal(1_000_000_000, (long)summary["node"]!["cpu"]!["usageNanoCores"]!);
        var container = summary["pods"]![0]!["containers"]![0]!;
        Assert.Equal(100_000_000, (long)container["cpu"]!["usageNanoCores"]!);
        Assert.Equal(50UL << 20, (ulong)container["memory"]!["workingSetBytes"]!);
    }
}
