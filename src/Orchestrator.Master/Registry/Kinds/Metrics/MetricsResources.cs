using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Metrics;

/// <summary>metrics.k8s.io/v1beta1, as metrics-server serves it: NodeMetrics and PodMetrics, get and list only, computed
/// from what the nodes report and never stored (the API's metrics view answers them; these descriptions give them
/// discovery, OpenAPI and RBAC names). Their store names are their own, so that they never meet the core nodes and pods.</summary>
internal static class MetricsResources
{
    public const string Group = "metrics.k8s.io";
    public const string Version = "v1beta1";

    public static readonly ResourceDescription NodeMetrics = new()
    {
        Group = Group, Version = Version, Resource = "nodes", Kind = "NodeMetrics", Namespaced = false,
        ObjectType = typeof(ServedNodeMetrics), Strategy = new ModelStrategy<ServedNodeMetrics>(), Verbs = ResourceDescription.ReadVerbs,
        StoreName = "nodes.metrics.k8s.io",
    };

    public static readonly ResourceDescription PodMetrics = new()
    {
        Group = Group, Version = Version, Resource = "pods", Kind = "PodMetrics", Namespaced = true,
        ObjectType = typeof(ServedPodMetrics), Strategy = new ModelStrategy<ServedPodMetrics>(), Verbs = ResourceDescription.ReadVerbs,
        StoreName = "pods.metrics.k8s.io",
    };

    public static IReadOnlyList<ResourceDescription> All => [NodeMetrics, PodMetrics];
}

/// <summary>The package's NodeMetrics with the apiVersion and kind every served object has.</summary>
internal sealed class ServedNodeMetrics : NodeMetrics, IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = MetricsResources.Group + "/" + MetricsResources.Version;
    [JsonPropertyName("kind")] public string Kind { get; set; } = "NodeMetrics";
}

/// <summary>The package's PodMetrics with the apiVersion and kind every served object has.</summary>
internal sealed class ServedPodMetrics : PodMetrics, IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = MetricsResources.Group + "/" + MetricsResources.Version;
    [JsonPropertyName("kind")] public string Kind { get; set; } = "PodMetrics";
}
