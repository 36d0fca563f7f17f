using k8s.Models;
using Orchestrator.Master.Api.Metrics;
using Orchestrator.Master.ResourceMetrics;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Api;

/// <summary>metrics.k8s.io objects as metrics-server writes them, and the newest sample per node.</summary>
public sealed class ResourceMetricsViewTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Pod_metrics_have_nanocores_and_bytes_per_container_with_timestamp_and_window()
    {
        var pod = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "web" } };
        var json = ResourceMetricsView.PodMetricsJson(pod,
            new PodUsage("default", "web", "u1", T0, 10.5, [new ContainerUsage("app", 199_000_000, 50L << 20)]), T0.AddSeconds(3));
        Assert.Equal("metrics.k8s.io/v1beta1", (string)json["apiVersion"]!);
        Assert.Equal("PodMetrics", (string)json["kind"]!);
        Assert.Equal("web", (string)json["metadata"]!["labels"]!["app"]!);
        Assert.Equal("2026-01-01T12:00:00Z", (string)json["timestamp"]!);
        Assert.Equal("10.5s", (string)json["window"]!);
        Assert.Equal("199000000n", (string)json["containers"]![0]!["usage"]!["cpu"]!);
        Assert.Equal("51200Ki", (string)json["containers"]![0]!["usage"]!["memory"]!);
    }

    [Fact]
    public void Windows_are_go_durations()
    {
        Assert.Equal("10s", ResourceMetricsView.GoDuration(10));
        Assert.Equal("1m5.25s", ResourceMetricsView.GoDuration(65.25));
        Assert.Equal("0s", ResourceMetricsView.GoDuration(0));
    }

    [Fact]
    public void The_newest_report_of_each_node_is_kept_and_stale_ones_are_forgotten()
    {
        var now = T0;
        var cache = new ResourceUsageCache(() => now);
        var node = new NodeUsage(T0, 10, 1_000_000, 1 << 20);
        cache.Report(new NodeMetricsReported("n1", node, [new PodUsage("default", "web", "u1", T0, 10, [])]));
        cache.Report(new NodeMetricsReported("n2", node, [new PodUsage("kube-system", "dns", "u2", T0, 10, [])]));
        Assert.Equal(2, cache.Nodes().Count);
        Assert.Single(cache.Pods("default"));
        Assert.Equal(2, cache.Pods().Count);
        now = T0 + ResourceUsageCache.MaxAge + TimeSpan.FromSeconds(1);
        cache.Report(new NodeMetricsReported("n2", node, []));
        Assert.Null(cache.Node("n1"));
        Assert.Empty(cache.Pods());
    }
}
