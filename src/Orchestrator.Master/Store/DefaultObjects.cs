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
}
