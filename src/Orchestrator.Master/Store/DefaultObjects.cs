using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>The objects a fresh cluster has, as Kubernetes creates them at first start.</summary>
internal static class DefaultObjects
{
    public static readonly IReadOnlyList<string> NamespaceNames = ["default", "kube-system", "kube-public", "kube-node-lease"];

    public static string KubernetesServiceIp => ClusterIpRange.First;

    public static IEnumerable<V1Namespace> Namespaces() =>
        NamespaceNames.Select(n => new V1Namespace { Metadata = new V1ObjectMeta { Name = n } });

    /// <summary>The API server's own Service in "default": the first ClusterIP of the service range, port 443 named https.</summary>
    public static V1Service KubernetesService() => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "kubernetes",
            NamespaceProperty = "default",
            Labels = new Dictionary<string, string> { ["component"] = "apiserver", ["provider"] = "kubernetes" },
        },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = KubernetesServiceIp,
            Ports = [new V1ServicePort { Name = "https", Port = 443, Protocol = "TCP", TargetPort = 6443 }],
        },
    };

    /// <summary>The priority classes every cluster has (Kubernetes' SystemPriorityClasses, created by the API server's
    /// bootstrap hook): system-node-critical and system-cluster-critical.</summary>
    public static IReadOnlyList<V1PriorityClass> SystemPriorityClasses() =>
    [
        PriorityClass("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
        PriorityClass("system-cluster-critical", 2_000_000_000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ];

    private static V1PriorityClass PriorityClass(string name, int value, string description) => new()
    {
        ApiVersion = "scheduling.k8s.io/v1",
        Kind = "PriorityClass",
        Metadata = new V1ObjectMeta { Name = name },
        Value = value,
        Description = description,
        PreemptionPolicy = "PreemptLowerPriority",
    };
}
