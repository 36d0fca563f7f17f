using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Autoscaling;

/// <summary>The autoscaling group: v2 (stored, preferred) and v1 (converted), as Kubernetes 1.32 serves them.</summary>
internal static class AutoscalingResources
{
    public static readonly ResourceDescription HorizontalPodAutoscalers = new()
    {
        Group = "autoscaling", Version = "v2", Resource = "horizontalpodautoscalers", Kind = "HorizontalPodAutoscaler", Namespaced = true,
        ObjectType = typeof(V2HorizontalPodAutoscaler), Strategy = new HorizontalPodAutoscalerStrategy(),
        Printer = new HorizontalPodAutoscalerTablePrinter(), ShortNames = ["hpa"], Categories = ["all"],
        Subresources = [SubresourceDescription.Status("HorizontalPodAutoscaler")],
        ProtobufMessage = "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
    };

    public static readonly ResourceDescription HorizontalPodAutoscalersV1 = new()
    {
        Group = "autoscaling", Version = "v1", Resource = "horizontalpodautoscalers", Kind = "HorizontalPodAutoscaler", Namespaced = true,
        ObjectType = typeof(V1HorizontalPodAutoscaler), Strategy = HorizontalPodAutoscalers.Strategy,
        Printer = new HorizontalPodAutoscalerV1TablePrinter(), ShortNames = ["hpa"], Categories = ["all"],
        Subresources = [SubresourceDescription.Status("HorizontalPodAutoscaler")],
        Storage = false, Conversion = HorizontalPodAutoscalerConversion.Instance,
        ProtobufMessage = "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler",
    };

    public static IReadOnlyList<ResourceDescription> All => [HorizontalPodAutoscalers, HorizontalPodAutoscalersV1];
}
