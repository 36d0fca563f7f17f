using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Autoscaling;

/// <summary>NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE (kubectl 1.32's printHorizontalPodAutoscaler: TARGETS as
/// "cpu: 12%/50%", "&lt;unknown&gt;" before the first measurement, at most four metrics and "+ N more...").</summary>
internal sealed class HorizontalPodAutoscalerTablePrinter : TablePrinter<V2HorizontalPodAutoscaler>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Reference", "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource."),
        TableColumnDefinition.Text("Targets", "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used)."),
        TableColumnDefinition.Text("MinPods", "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down."),
        TableColumnDefinition.Integer("MaxPods", "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up."),
        TableColumnDefinition.Integer("Replicas", "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V2HorizontalPodAutoscaler hpa, DateTime now) =>
    [
        hpa.Metadata.Name, $"{hpa.Spec?.ScaleTargetRef?.Kind}/{hpa.Spec?.ScaleTargetRef?.Name}", Targets(hpa),
        hpa.Spec?.MinReplicas is { } min ? min.ToString() : "<unset>", (long)(hpa.Spec?.MaxReplicas ?? 0),
        (long)(hpa.Status?.CurrentReplicas ?? 0), Age(hpa, now),
    ];

    public static string Targets(V2HorizontalPodAutoscaler hpa)
    {
        var specs = hpa.Spec?.Metrics ?? [];
        var statuses = hpa.Status?.CurrentMetrics ?? [];
        if (specs.Count == 0) return "<none>";
        var list = new List<string>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var status = statuses.Count > i ? statuses[i] : null;
            switch (spec.Type)
            {
                case "Resource" when spec.Resource is { } r:
                    list.Add(ResourceTarget(r.Name, r.Target, status?.Resource?.Current));
                    break;
                case "ContainerResource" when spec.ContainerResource is { } c:
                    list.Add(ResourceTarget(c.Name, c.Target, status?.ContainerResource?.Current));
                    break;
                case "Pods" when spec.Pods is { } p:
                    list.Add($"{status?.Pods?.Current?.AverageValue?.ToString() ?? "<unknown>"}/{p.Target?.AverageValue}");
                    break;
                case "Object" when spec.ObjectProperty is { } o:
                    var objectCurrent = o.Target?.Type == "AverageValue" ? status?.ObjectProperty?.Current?.AverageValue : status?.ObjectProperty?.Current?.Value;
                    var objectTarget = o.Target?.Type == "AverageValue" ? $"{o.Target.AverageValue} (avg)" : o.Target?.Value?.ToString();
                    list.Add($"{objectCurrent?.ToString() ?? "<unknown>"}/{objectTarget}");
                    break;
                case "External" when spec.External is { } e:
                    var externalCurrent = e.Target?.Type == "AverageValue" ? status?.External?.Current?.AverageValue : status?.External?.Current?.Value;
                    var externalTarget = e.Target?.Type == "AverageValue" ? $"{e.Target.AverageValue} (avg)" : e.Target?.Value?.ToString();
                    list.Add($"{externalCurrent?.ToString() ?? "<unknown>"}/{externalTarget}");
                    break;
                default:
                    list.Add("<unknown type>");
                    break;
            }
        }
        return list.Count > 4 ? $"{string.Join(", ", list.Take(4))} + {list.Count - 4} more..." : string.Join(", ", list);
    }

    private static string ResourceTarget(string name, V2MetricTarget? target, V2MetricValueStatus? current)
    {
        if (target?.AverageValue is { } averageValue)
            return $"{name}: {current?.AverageValue?.ToString() ?? "<unknown>"}/{averageValue}";
        var now = current?.AverageUtilization is { } u ? $"{u}%" : "<unknown>";
        var wanted = target?.AverageUtilization is { } t ? $"{t}%" : "<auto>";
        return $"{name}: {now}/{wanted}";
    }
}

/// <summary>The same columns for autoscaling/v1 objects (printed through their v2 form).</summary>
internal sealed class HorizontalPodAutoscalerV1TablePrinter : ITablePrinter
{
    private static readonly HorizontalPodAutoscalerTablePrinter V2 = new();

    public IReadOnlyList<TableColumnDefinition> Columns => V2.Columns;

    public IReadOnlyList<object> Cells(IKubernetesObject<V1ObjectMeta> obj, DateTime now) =>
        V2.Cells(HorizontalPodAutoscalerConversion.ToV2((V1HorizontalPodAutoscaler)obj), now);
}
