using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Controllers.Autoscaling;

/// <summary>One pod's usage of a resource in milli-units (millicores, millibytes) and when it was measured.</summary>
internal sealed record PodMetric(long MilliValue, DateTime Timestamp, TimeSpan Window);

/// <summary>A proposal: the replica count, the utilization in percent of the requests (Utilization targets) and the
/// average usage per pod in milli-units.</summary>
internal sealed record ReplicaProposal(int Replicas, int? Utilization, long AverageMilliValue);

/// <summary>A failure to compute a proposal, with Kubernetes' message.</summary>
internal sealed class ReplicaCalculationException(string message) : Exception(message);

/// <summary>
/// Kubernetes' replica calculator (pkg/controller/podautoscaler/replica_calculator.go) for resource metrics: pods are
/// grouped into ready, unready (pending; for CPU, not ready or measured before one window after becoming ready while
/// starting), missing (no metric) and ignored (deleting or failed); the usage ratio of the ready ones decides, within
/// the tolerance nothing changes; missing pods count as at target when scaling down and as idle when scaling up, and
/// unready ones as idle when scaling up, and a change of direction by them cancels the scaling.
/// </summary>
internal static class ReplicaCalculator
{
    public const double DefaultTolerance = 0.1;
    public static readonly TimeSpan CpuInitializationPeriod = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DelayOfInitialReadinessStatus = TimeSpan.FromSeconds(30);

    /// <summary>GetResourceReplicas: a target utilization in percent of the pods' requests.</summary>
    public static ReplicaProposal ForUtilization(int currentReplicas, int targetUtilization, string resource, string? container,
        IReadOnlyList<V1Pod> pods, Dictionary<string, PodMetric> metrics, DateTime now, double tolerance = DefaultTolerance)
    {
        if (pods.Count == 0) throw new ReplicaCalculationException("no pods returned by selector while calculating replica count");
        var (ready, unready, missing, ignored) = GroupPods(pods, metrics, resource, now);
        foreach (var name in ignored.Concat(unready)) metrics.Remove(name);
        if (metrics.Count == 0) throw new ReplicaCalculationException("did not receive metrics for targeted pods (pods might be unready)");
        var requests = Requests(pods, resource, container);
        var (ratio, utilization, raw) = UtilizationRatio(metrics, requests, targetUtilization);

        var scaleUpWithUnready = unready.Count > 0 && ratio > 1.0;
        if (!scaleUpWithUnready && missing.Count == 0)
        {
            if (Math.Abs(1.0 - ratio) <= tolerance) return new ReplicaProposal(currentReplicas, utilization, raw);
            return new ReplicaProposal((int)Math.Ceiling(ratio * ready), utilization, raw);
        }
        foreach (var name in missing)
            metrics[name] = new PodMetric(ratio < 1.0 ? requests.GetValueOrDefault(name) : 0, now, TimeSpan.Zero);
        if (scaleUpWithUnready)
            foreach (var name in unready) metrics[name] = new PodMetric(0, now, TimeSpan.Zero);
        var (newRatio, _, _) = UtilizationRatio(metrics, requests, targetUtilization);
        return Rebalanced(currentReplicas, ratio, newRatio, metrics.Count, tolerance) is { } replicas
            ? new ReplicaProposal(replicas, utilization, raw)
            : new ReplicaProposal(currentReplicas, utilization, raw);
    }

    /// <summary>GetRawResourceReplicas: a target average usage per pod, in milli-units.</summary>
    public static ReplicaProposal ForAverageValue(int currentReplicas, long targetMilliValue, string resource,
        IReadOnlyList<V1Pod> pods, Dictionary<string, PodMetric> metrics, DateTime now, double tolerance = DefaultTolerance)
    {
        if (pods.Count == 0) throw new ReplicaCalculationException("no pods returned by selector while calculating replica count");
        var (ready, unready, missing, ignored) = GroupPods(pods, metrics, resource, now);
        foreach (var name in ignored.Concat(unready)) metrics.Remove(name);
        if (metrics.Count == 0) throw new ReplicaCalculationException("did not receive metrics for targeted pods (pods might be unready)");
        var (ratio, usage) = UsageRatio(metrics, targetMilliValue);

        var scaleUpWithUnready = unready.Count > 0 && ratio > 1.0;
        if (!scaleUpWithUnready && missing.Count == 0)
        {
            if (Math.Abs(1.0 - ratio) <= tolerance) return new ReplicaProposal(currentReplicas, null, usage);
            return new ReplicaProposal((int)Math.Ceiling(ratio * ready), null, usage);
        }
        foreach (var name in missing) metrics[name] = new PodMetric(ratio < 1.0 ? targetMilliValue : 0, now, TimeSpan.Zero);
        if (scaleUpWithUnready)
            foreach (var name in unready) metrics[name] = new PodMetric(0, now, TimeSpan.Zero);
        var (newRatio, _) = UsageRatio(metrics, targetMilliValue);
        return Rebalanced(currentReplicas, ratio, newRatio, metrics.Count, tolerance) is { } replicas
            ? new ReplicaProposal(replicas, null, usage)
            : new ReplicaProposal(currentReplicas, null, usage);
    }

    /// <summary>The count after missing and unready pods were filled in; null keeps the current count (within the
    /// tolerance, or the filled-in pods reversed the direction).</summary>
    private static int? Rebalanced(int current, double ratio, double newRatio, int pods, double tolerance)
    {
        if (Math.Abs(1.0 - newRatio) <= tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0)) return null;
        var replicas = (int)Math.Ceiling(newRatio * pods);
        if ((newRatio < 1.0 && replicas > current) || (newRatio > 1.0 && replicas < current)) return null;
        return replicas;
    }

    internal static (int Ready, HashSet<string> Unready, HashSet<string> Missing, HashSet<string> Ignored) GroupPods(
        IReadOnlyList<V1Pod> pods, IReadOnlyDictionary<string, PodMetric> metrics, string resource, DateTime now)
    {
        var ready = 0;
        HashSet<string> unready = new(), missing = new(), ignored = new();
        foreach (var pod in pods)
        {
            var name = pod.Metadata.Name;
            if (pod.Metadata.DeletionTimestamp is not null || pod.Status?.Phase == "Failed")
            {
                ignored.Add(name);
                continue;
            }
            if (pod.Status?.Phase is null or "Pending")
            {
                unready.Add(name);
                continue;
            }
            if (!metrics.TryGetValue(name, out var metric))
            {
                missing.Add(name);
                continue;
            }
            if (resource == "cpu" && IsUnreadyForCpu(pod, metric, now))
            {
                unready.Add(name);
                continue;
            }
            ready++;
        }
        return (ready, unready, missing, ignored);
    }

    /// <summary>A starting pod's CPU is not trusted until it is ready and measured for one window since; after the
    /// initialization period only a pod that has never been ready is ignored.</summary>
    private static bool IsUnreadyForCpu(V1Pod pod, PodMetric metric, DateTime now)
    {
        var condition = PodFacts.Condition(pod, "Ready");
        if (condition is null || pod.Status?.StartTime is not { } started) return true;
        var startTime = started.ToUniversalTime();
        var transition = (condition.LastTransitionTime ?? startTime).ToUniversalTime();
        if (startTime + CpuInitializationPeriod > now)
            return condition.Status == "False" || metric.Timestamp < transition + metric.Window;
        return condition.Status == "False" && startTime + DelayOfInitialReadinessStatus > transition;
    }

    /// <summary>Each pod's request of the resource (the named container's, or the sum of its containers'), in milli-units.</summary>
    internal static Dictionary<string, long> Requests(IReadOnlyList<V1Pod> pods, string resource, string? container)
    {
        var requests = new Dictionary<string, long>();
        foreach (var pod in pods)
        {
            long sum = 0;
            foreach (var c in pod.Spec?.Containers ?? [])
            {
                if (container is not null && c.Name != container) continue;
                if (c.Resources?.Requests is not { } r || !r.TryGetValue(resource, out var quantity))
                    throw new ReplicaCalculationException($"missing request for {resource} in container {c.Name} of Pod {pod.Metadata.Name}");
                sum += (long)Math.Ceiling(quantity.ToDecimal() * 1000);
            }
            requests[pod.Metadata.Name] = sum;
        }
        return requests;
    }

    /// <summary>GetResourceUtilizationRatio: the pods' usage against their requests, in whole percent, against the target.</summary>
    internal static (double Ratio, int Utilization, long Raw) UtilizationRatio(Dictionary<string, PodMetric> metrics,
        Dictionary<string, long> requests, int targetUtilization)
    {
        long metricsTotal = 0, requestsTotal = 0;
        var entries = 0;
        foreach (var (name, metric) in metrics)
        {
            if (!requests.TryGetValue(name, out var request)) continue;
            metricsTotal += metric.MilliValue;
            requestsTotal += request;
            entries++;
        }
        if (requestsTotal == 0) throw new ReplicaCalculationException("no metrics returned matched known pods");
        var utilization = (int)(metricsTotal * 100 / requestsTotal);
        return ((double)utilization / targetUtilization, utilization, metricsTotal / entries);
    }

    /// <summary>GetMetricUsageRatio: the average usage per pod against the target.</summary>
    internal static (double Ratio, long Usage) UsageRatio(Dictionary<string, PodMetric> metrics, long target)
    {
        var usage = metrics.Values.Sum(m => m.MilliValue) / metrics.Count;
        return ((double)usage / target, usage);
    }
}
