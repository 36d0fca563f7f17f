using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Autoscaling;

/// <summary>
/// autoscaling/v1 HorizontalPodAutoscaler ⇄ the stored autoscaling/v2 one, as Kubernetes' autoscaling/v1 conversion:
/// the CPU utilization target is targetCPUUtilizationPercentage; what v1 cannot say (other metrics, behavior, status
/// conditions and current metrics) travels in the autoscaling.alpha.kubernetes.io/* annotations, so a v1 client that
/// writes back what it read loses nothing.
/// </summary>
internal sealed class HorizontalPodAutoscalerConversion : IVersionConverter
{
    public const string MetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
    public const string BehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
    public const string ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
    public const string CurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";

    public static HorizontalPodAutoscalerConversion Instance { get; } = new();

    public IKubernetesObject<V1ObjectMeta> ToStorage(IKubernetesObject<V1ObjectMeta> served) => ToV2((V1HorizontalPodAutoscaler)served);

    public IKubernetesObject<V1ObjectMeta> FromStorage(IKubernetesObject<V1ObjectMeta> stored) => ToV1((V2HorizontalPodAutoscaler)stored);

    /// <summary>autoscaling/v1's one default (its SetDefaults_HorizontalPodAutoscaler): minReplicas 1.</summary>
    public void DefaultServed(IKubernetesObject<V1ObjectMeta> served)
    {
        if (served is V1HorizontalPodAutoscaler { Spec: { } spec }) spec.MinReplicas ??= 1;
    }

    public static V2HorizontalPodAutoscaler ToV2(V1HorizontalPodAutoscaler v1)
    {
        var metadata = KubeObjects.Clone(v1.Metadata ?? new V1ObjectMeta());
        var annotations = metadata.Annotations is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata.Annotations);
        var metrics = new List<V2MetricSpec>();
        if (v1.Spec?.TargetCPUUtilizationPercentage is { } cpu)
            metrics.Add(CpuMetric(cpu));
        if (annotations.Remove(MetricsAnnotation, out var moreMetrics))
            metrics.AddRange(KubernetesJson.Deserialize<List<V2MetricSpec>>(moreMetrics) ?? []);
        V2HorizontalPodAutoscalerBehavior? behavior = annotations.Remove(BehaviorAnnotation, out var b)
            ? KubernetesJson.Deserialize<V2HorizontalPodAutoscalerBehavior>(b)
            : null;
        List<V2HorizontalPodAutoscalerCondition>? conditions = annotations.Remove(ConditionsAnnotation, out var c)
            ? KubernetesJson.Deserialize<List<V2HorizontalPodAutoscalerCondition>>(c)
            : null;
        var currentMetrics = annotations.Remove(CurrentMetricsAnnotation, out var m)
            ? KubernetesJson.Deserialize<List<V2MetricStatus>>(m) ?? []
            : [];
        if (v1.Status?.CurrentCPUUtilizationPercentage is { } currentCpu && !currentMetrics.Any(IsCpu))
            currentMetrics.Insert(0, new V2MetricStatus
            {
                Type = "Resource",
                Resource = new V2ResourceMetricStatus { Name = "cpu", Current = new V2MetricValueStatus { AverageUtilization = currentCpu } },
            });
        metadata.Annotations = annotations.Count == 0 ? null : annotations;
        return new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2",
            Kind = "HorizontalPodAutoscaler",
            Metadata = metadata,
            Spec = v1.Spec is null ? null : new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = v1.Spec.ScaleTargetRef is { } r
                    ? new V2CrossVersionObjectReference { ApiVersion = r.ApiVersion, Kind = r.Kind, Name = r.Name }
                    : null,
                MinReplicas = v1.Spec.MinReplicas,
                MaxReplicas = v1.Spec.MaxReplicas,
                Metrics = metrics.Count == 0 ? null : metrics,
                Behavior = behavior,
            },
            Status = v1.Status is null ? null : new V2HorizontalPodAutoscalerStatus
            {
                CurrentReplicas = v1.Status.CurrentReplicas,
                DesiredReplicas = v1.Status.DesiredReplicas,
                LastScaleTime = v1.Status.LastScaleTime,
                ObservedGeneration = v1.Status.ObservedGeneration,
                Conditions = conditions,
                CurrentMetrics = currentMetrics.Count == 0 ? null : currentMetrics,
            },
        };
    }

    public static V1HorizontalPodAutoscaler ToV1(V2HorizontalPodAutoscaler v2)
    {
        var metadata = KubeObjects.Clone(v2.Metadata ?? new V1ObjectMeta());
        var annotations = metadata.Annotations is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata.Annotations);
        var metrics = v2.Spec?.Metrics ?? [];
        var cpu = metrics.FirstOrDefault(IsCpuUtilization);
        var others = metrics.Where(x => !ReferenceEquals(x, cpu)).ToList();
        if (others.Count > 0) annotations[MetricsAnnotation] = KubernetesJson.Serialize(others);
        if (v2.Spec?.Behavior is { } behavior) annotations[BehaviorAnnotation] = KubernetesJson.Serialize(behavior);
        if (v2.Status?.Conditions is { Count: > 0 } conditions) annotations[ConditionsAnnotation] = KubernetesJson.Serialize(conditions);
        var currentCpu = v2.Status?.CurrentMetrics?.FirstOrDefault(IsCpu);
        var otherCurrent = v2.Status?.CurrentMetrics?.Where(x => !ReferenceEquals(x, currentCpu)).ToList() ?? [];
        if (otherCurrent.Count > 0) annotations[CurrentMetricsAnnotation] = KubernetesJson.Serialize(otherCurrent);
        metadata.Annotations = annotations.Count == 0 ? null : annotations;
        return new V1HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v1",
            Kind = "HorizontalPodAutoscaler",
            Metadata = metadata,
            Spec = v2.Spec is null ? null : new V1HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = v2.Spec.ScaleTargetRef is { } r
                    ? new V1CrossVersionObjectReference { ApiVersion = r.ApiVersion, Kind = r.Kind, Name = r.Name }
                    : null,
                MinReplicas = v2.Spec.MinReplicas,
                MaxReplicas = v2.Spec.MaxReplicas,
                TargetCPUUtilizationPercentage = cpu?.Resource?.Target?.AverageUtilization,
            },
            Status = v2.Status is null ? null : new V1HorizontalPodAutoscalerStatus
            {
                CurrentReplicas = v2.Status.CurrentReplicas ?? 0,
                DesiredReplicas = v2.Status.DesiredReplicas,
                LastScaleTime = v2.Status.LastScaleTime,
                ObservedGeneration = v2.Status.ObservedGeneration,
                CurrentCPUUtilizationPercentage = currentCpu?.Resource?.Current?.AverageUtilization,
            },
        };
    }

    public static V2MetricSpec CpuMetric(int utilization) => new()
    {
        Type = "Resource",
        Resource = new V2ResourceMetricSource
        {
            Name = "cpu",
            Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = utilization },
        },
    };

    private static bool IsCpuUtilization(V2MetricSpec metric) =>
        metric.Type == "Resource" && metric.Resource?.Name == "cpu" && metric.Resource.Target?.Type == "Utilization";

    private static bool IsCpu(V2MetricStatus metric) =>
        metric.Type == "Resource" && metric.Resource?.Name == "cpu" && metric.Resource.Current?.AverageUtilization is not null;
}
