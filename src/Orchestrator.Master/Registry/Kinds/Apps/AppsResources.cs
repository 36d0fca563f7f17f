using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>The apps group (<c>/apis/apps/v1</c>).</summary>
internal static class AppsResources
{
    private static readonly ScaleSubresource ReplicasScale = new(".spec.replicas", ".status.replicas", ".spec.selector");

    public static readonly ResourceDescription Deployments = new()
    {
        Group = "apps", Version = "v1", Resource = "deployments", Kind = "Deployment", Namespaced = true,
        ObjectType = typeof(V1Deployment), Strategy = new DeploymentStrategy(), Printer = new DeploymentTablePrinter(),
        ShortNames = ["deploy"], Categories = ["all"],
        Subresources = [SubresourceDescription.Status("Deployment"), SubresourceDescription.ScaleOf(ReplicasScale)],
        ProtobufMessage = "k8s.io.api.apps.v1.Deployment",
    };

    public static readonly ResourceDescription ReplicaSets = new()
    {
        Group = "apps", Version = "v1", Resource = "replicasets", Kind = "ReplicaSet", Namespaced = true,
        ObjectType = typeof(V1ReplicaSet), Strategy = new ReplicaSetStrategy(), Printer = new ReplicaSetTablePrinter(),
        ShortNames = ["rs"], Categories = ["all"],
        Subresources = [SubresourceDescription.Status("ReplicaSet"), SubresourceDescription.ScaleOf(ReplicasScale)],
        SelectableFields = ["status.replicas"],
        ProtobufMessage = "k8s.io.api.apps.v1.ReplicaSet",
    };

    public static IReadOnlyList<ResourceDescription> All => [Deployments, ReplicaSets];
}
