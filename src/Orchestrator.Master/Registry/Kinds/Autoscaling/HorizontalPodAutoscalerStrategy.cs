using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Autoscaling;

/// <summary>
/// autoscaling/v2 HorizontalPodAutoscaler (stored version): defaults (minReplicas 1, a CPU utilization target of 80% when
/// no metric is given, the default scale-up and scale-down rules filled in where behavior is given) and Kubernetes'
/// ValidateHorizontalPodAutoscaler rules (target reference, replica bounds, metric sources and targets, behavior).
/// </summary>
internal sealed class HorizontalPodAutoscalerStrategy : ModelStrategy<V2HorizontalPodAutoscaler>
{
    public const int DefaultCpuUtilization = 80;
    private static readonly string[] MetricTypes = ["ContainerResource", "External", "Object", "Pods", "Resource"];

    // 1.32's HPA strategy keeps no metadata.generation (the HPAGeneration gate came later).
    public HorizontalPodAutoscalerStrategy() => HasGeneration = false;

    protected override void PrepareForCreate(V2HorizontalPodAutoscaler hpa) => hpa.Status = new V2HorizontalPodAutoscalerStatus();

    protected override void Default(V2HorizontalPodAutoscaler hpa)
    {
        var spec = hpa.Spec ??= new V2HorizontalPodAutoscalerSpec();
        spec.MinReplicas ??= 1;
        if (spec.Metrics is null || spec.Metrics.Count == 0)
            spec.Metrics = [HorizontalPodAutoscalerConversion.CpuMetric(DefaultCpuUtilization)];
        if (spec.Behavior is { } behavior)
        {
            behavior.ScaleUp = DefaultRules(behavior.ScaleUp, up: true);
            behavior.ScaleDown = DefaultRules(behavior.ScaleDown, up: false);
        }
    }

    /// <summary>Kubernetes' GenerateHPAScaleUpRules / GenerateHPAScaleDownRules.</summary>
    public static V2HPAScalingRules DefaultRules(V2HPAScalingRules? rules, bool up)
    {
        var result = rules ?? new V2HPAScalingRules();
        result.SelectPolicy ??= "Max";
        result.StabilizationWindowSeconds ??= up ? 0 : 300;
        if (result.Policies is null || result.Policies.Count == 0)
            result.Policies = up
                ? [Policy("Pods", 4), Policy("Percent", 100)]
                : [Policy("Percent", 100)];
        return result;
    }

    private static V2HPAScalingPolicy Policy(string type, int value) => new() { Type = type, Value = value, PeriodSeconds = 15 };

    protected override void Validate(V2HorizontalPodAutoscaler hpa, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = hpa.Spec!;
        var target = spec.ScaleTargetRef;
        if (string.IsNullOrEmpty(target?.Kind)) causes.Add(FieldErrors.Required("spec.scaleTargetRef.kind"));
        if (string.IsNullOrEmpty(target?.Name)) causes.Add(FieldErrors.Required("spec.scaleTargetRef.name"));
        else if (target.Name.Contains('/') || target.Name.Contains('%') || target.Name is "." or "..")
            causes.Add(FieldErrors.Invalid("spec.scaleTargetRef.name", target.Name, "may not contain '/' or '%'"));
        if (spec.MinReplicas is < 1) causes.Add(FieldErrors.Invalid("spec.minReplicas", spec.MinReplicas, "must be greater than or equal to 1"));
        if (spec.MaxReplicas < 1) causes.Add(FieldErrors.Invalid("spec.maxReplicas", spec.MaxReplicas, "must be greater than 0"));
        if (spec.MinReplicas is { } min && spec.MaxReplicas < min)
            causes.Add(FieldErrors.Invalid("spec.maxReplicas", spec.MaxReplicas, "must be greater than or equal to `minReplicas`"));
        for (var i = 0; i < spec.Metrics.Count; i++) ValidateMetric(spec.Metrics[i], $"spec.metrics[{i}]", causes);
        if (spec.Behavior is { } behavior)
        {
            ValidateRules(behavior.ScaleUp, "spec.behavior.scaleUp", causes);
            ValidateRules(behavior.ScaleDown, "spec.behavior.scaleDown", causes);
        }
    }

    private static void ValidateMetric(V2MetricSpec metric, string path, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(metric.Type))
        {
            causes.Add(FieldErrors.Required($"{path}.type", "must specify a metric source type"));
            return;
        }
        if (!MetricTypes.Contains(metric.Type))
        {
            causes.Add(FieldErrors.NotSupported($"{path}.type", metric.Type, MetricTypes));
            return;
        }
        var (source, sourcePath) = metric.Type switch
        {
            "Resource" => ((object?)metric.Resource, $"{path}.resource"),
            "ContainerResource" => (metric.ContainerResource, $"{path}.containerResource"),
            "Pods" => (metric.Pods, $"{path}.pods"),
            "Object" => (metric.ObjectProperty, $"{path}.object"),
            _ => (metric.External, $"{path}.external"),
        };
        if (source is null)
        {
            causes.Add(FieldErrors.Required(sourcePath, $"must populate information for the given metric source"));
            return;
        }
        if (metric.Type is "Pods" or "Object" or "External")
            causes.Add(FieldErrors.Forbidden(sourcePath,
                $"{metric.Type} metrics need a custom or external metrics API, which this cluster does not serve; use Resource or ContainerResource metrics"));
        switch (metric.Type)
        {
            case "Resource":
                if (string.IsNullOrEmpty(metric.Resource.Name)) causes.Add(FieldErrors.Required($"{sourcePath}.name", "must specify a resource name"));
                ValidateTarget(metric.Resource.Target, $"{sourcePath}.target", causes, allowUtilization: true);
                break;
            case "ContainerResource":
                if (string.IsNullOrEmpty(metric.ContainerResource.Name)) causes.Add(FieldErrors.Required($"{sourcePath}.name", "must specify a resource name"));
                if (string.IsNullOrEmpty(metric.ContainerResource.Container)) causes.Add(FieldErrors.Required($"{sourcePath}.container", "must specify a container"));
                ValidateTarget(metric.ContainerResource.Target, $"{sourcePath}.target", causes, allowUtilization: true);
                break;
            case "Pods":
                if (string.IsNullOrEmpty(metric.Pods.Metric?.Name)) causes.Add(FieldErrors.Required($"{sourcePath}.metric.name", "must specify a metric name"));
                ValidateTarget(metric.Pods.Target, $"{sourcePath}.target", causes, allowUtilization: false);
                break;
            case "Object":
                if (string.IsNullOrEmpty(metric.ObjectProperty.Metric?.Name)) causes.Add(FieldErrors.Required($"{sourcePath}.metric.name", "must specify a metric name"));
                ValidateTarget(metric.ObjectProperty.Target, $"{sourcePath}.target", causes, allowUtilization: false);
                break;
            default:
                if (string.IsNullOrEmpty(metric.External.Metric?.Name)) causes.Add(FieldErrors.Required($"{sourcePath}.metric.name", "must specify a metric name"));
                ValidateTarget(metric.External.Target, $"{sourcePath}.target", causes, allowUtilization: false);
                break;
        }
    }

    private static void ValidateTarget(V2MetricTarget? target, string path, List<StoreErrorCause> causes, bool allowUtilization)
    {
        if (target is null)
        {
            causes.Add(FieldErrors.Required(path, "must specify a metric target"));
            return;
        }
        string[] types = allowUtilization ? ["AverageValue", "Utilization", "Value"] : ["AverageValue", "Value"];
        if (string.IsNullOrEmpty(target.Type)) causes.Add(FieldErrors.Required($"{path}.type", "must specify a metric target type"));
        else if (!types.Contains(target.Type)) causes.Add(FieldErrors.NotSupported($"{path}.type", target.Type, types));
        if (target.AverageUtilization is < 1) causes.Add(FieldErrors.Invalid($"{path}.averageUtilization", target.AverageUtilization, "must be greater than 0"));
        if (target.Value is { } v && v.ToDecimal() <= 0) causes.Add(FieldErrors.Invalid($"{path}.value", v.ToString(), "must be positive"));
        if (target.AverageValue is { } av && av.ToDecimal() <= 0) causes.Add(FieldErrors.Invalid($"{path}.averageValue", av.ToString(), "must be positive"));
        var set = (target.Type) switch
        {
            "Utilization" => target.AverageUtilization is not null,
            "Value" => target.Value is not null,
            "AverageValue" => target.AverageValue is not null,
            _ => true,
        };
        if (!set) causes.Add(FieldErrors.Required(path, "must set either a target raw value, a target average value, or a target utilization"));
    }

    private static void ValidateRules(V2HPAScalingRules? rules, string path, List<StoreErrorCause> causes)
    {
        if (rules is null) return;
        if (rules.StabilizationWindowSeconds is < 0 or > 3600)
            causes.Add(FieldErrors.Invalid($"{path}.stabilizationWindowSeconds", rules.StabilizationWindowSeconds,
                rules.StabilizationWindowSeconds < 0 ? "must be greater than or equal to zero" : "must be less than or equal to 3600"));
        if (rules.SelectPolicy is not (null or "Max" or "Min" or "Disabled"))
            causes.Add(FieldErrors.NotSupported($"{path}.selectPolicy", rules.SelectPolicy, ["Disabled", "Max", "Min"]));
        if (rules.Tolerance is not null)
            causes.Add(FieldErrors.Forbidden($"{path}.tolerance", "a per-HPA tolerance is not served in Kubernetes 1.32 (the controller's 0.1 applies)"));
        for (var i = 0; i < (rules.Policies?.Count ?? 0); i++)
        {
            var policy = rules.Policies![i];
            var at = $"{path}.policies[{i}]";
            if (policy.Type is not ("Pods" or "Percent")) causes.Add(FieldErrors.NotSupported($"{at}.type", policy.Type, ["Percent", "Pods"]));
            if (policy.Value <= 0) causes.Add(FieldErrors.Invalid($"{at}.value", policy.Value, "must be greater than zero"));
            if (policy.PeriodSeconds <= 0) causes.Add(FieldErrors.Invalid($"{at}.periodSeconds", policy.PeriodSeconds, "must be greater than zero"));
            else if (policy.PeriodSeconds > 1800) causes.Add(FieldErrors.Invalid($"{at}.periodSeconds", policy.PeriodSeconds, "must be less than or equal to 1800"));
        }
    }
}
