using k8s.Models;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Controllers.Autoscaling;

/// <summary>One metric's outcome: a proposal with its name ("cpu resource utilization (percentage of request)") and
/// status, or a failure with the ScalingActive reason and the error.</summary>
internal sealed record MetricOutcome(int Replicas, string Name, V2MetricStatus? Status, string? FailureReason = null, string? Error = null)
{
    public bool Failed => Error is not null;
}

/// <summary>
/// computeReplicasForMetrics for the metrics this cluster has, the resource metrics API: Resource and ContainerResource
/// metrics of cpu and memory with Utilization or AverageValue targets, from the pods' newest usage. Pods, Object and
/// External metrics need a custom or external metrics API, which this cluster does not serve (the API refuses them).
/// </summary>
internal static class MetricReplicas
{
    public static MetricOutcome Compute(V2MetricSpec spec, int currentReplicas, IReadOnlyList<V1Pod> pods,
        IReadOnlyDictionary<(string, string), PodUsage> usage, DateTime now, double tolerance)
    {
        var (resource, container, target, reason) = spec.Type switch
        {
            "Resource" => (spec.Resource?.Name, (string?)null, spec.Resource?.Target, "FailedGetResourceMetric"),
            "ContainerResource" => (spec.ContainerResource?.Name, spec.ContainerResource?.Container, spec.ContainerResource?.Target,
                "FailedGetContainerResourceMetric"),
            _ => (null, null, null, $"FailedGet{spec.Type}Metric"),
        };
        if (resource is null || target is null)
            return Failure(reason, $"unable to get {spec.Type} metric: no custom or external metrics API is served");
        var failurePrefix = spec.Type == "Resource" ? $"failed to get {resource} resource metric value: " : $"failed to get {resource} container resource metric value: ";
        var metrics = PodMetrics(pods, usage, resource, container);
        if (metrics.Count == 0)
            return Failure(reason, failurePrefix + $"failed to get {resource} {(target.AverageValue is not null ? "usage" : "utilization")}: " +
                $"unable to get metrics for resource {resource}: no metrics returned from resource metrics API");
        try
        {
            if (target.AverageValue is { } averageValue)
            {
                var proposal = ReplicaCalculator.ForAverageValue(currentReplicas, (long)Math.Ceiling(averageValue.ToDecimal() * 1000), resource, pods, metrics, now, tolerance);
                return new MetricOutcome(proposal.Replicas, spec.Type == "Resource" ? $"{resource} resource" : $"{resource} container resource",
                    Status(spec, resource, container, new V2MetricValueStatus { AverageValue = Milli(proposal.AverageMilliValue) }));
            }
            if (target.AverageUtilization is not { } utilization)
                return Failure(reason, failurePrefix + "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set");
            var p = ReplicaCalculator.ForUtilization(currentReplicas, utilization, resource, container, pods, metrics, now, tolerance);
            return new MetricOutcome(p.Replicas,
                spec.Type == "Resource" ? $"{resource} resource utilization (percentage of request)" : $"{resource} container resource utilization (percentage of request)",
                Status(spec, resource, container, new V2MetricValueStatus { AverageUtilization = p.Utilization, AverageValue = Milli(p.AverageMilliValue) }));
        }
        catch (ReplicaCalculationException e)
        {
            var what = target.AverageValue is not null ? "usage" : "utilization";
            return Failure(reason, failurePrefix + $"failed to get {resource} {what}: {e.Message}");
        }
    }

    private static MetricOutcome Failure(string reason, string error) => new(0, "", null, reason, error);

    private static V2MetricStatus Status(V2MetricSpec spec, string resource, string? container, V2MetricValueStatus current) =>
        spec.Type == "Resource"
            ? new V2MetricStatus { Type = "Resource", Resource = new V2ResourceMetricStatus { Name = resource, Current = current } }
            : new V2MetricStatus { Type = "ContainerResource", ContainerResource = new V2ContainerResourceMetricStatus { Name = resource, Container = container, Current = current } };

    /// <summary>A milli-unit count as a quantity ("250m", or whole units when it divides).</summary>
    internal static ResourceQuantity Milli(long milli) => new(milli % 1000 == 0 ? (milli / 1000).ToString() : $"{milli}m");

    /// <summary>The metrics client's view: each selected pod's usage of the resource in milli-units (CPU nanocores / 1e6,
    /// memory bytes × 1000), of one container or all; pods without a sample, or without that container's, are absent.</summary>
    internal static Dictionary<string, PodMetric> PodMetrics(IReadOnlyList<V1Pod> pods, IReadOnlyDictionary<(string, string), PodUsage> usage,
        string resource, string? container)
    {
        var metrics = new Dictionary<string, PodMetric>();
        foreach (var pod in pods)
        {
            if (!usage.TryGetValue((pod.Metadata.NamespaceProperty, pod.Metadata.Name), out var sample) || sample.Uid != pod.Metadata.Uid) continue;
            var containers = container is null ? sample.Containers : sample.Containers.Where(c => c.Name == container).ToList();
            if (containers.Count == 0) continue;
            long milli = 0;
            foreach (var c in containers)
                milli += resource switch
                {
                    "cpu" => c.CpuNanoCores / 1_000_000,
                    "memory" => c.MemoryWorkingSetBytes * 1000,
                    _ => 0,
                };
            if (resource is not ("cpu" or "memory")) continue;
            metrics[pod.Metadata.Name] = new PodMetric(milli, sample.Timestamp, TimeSpan.FromSeconds(sample.WindowSeconds));
        }
        return metrics;
    }
}
