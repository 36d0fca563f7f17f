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

    public static readonly ResourceDescription DaemonSets = new()
    {
        Group = "apps", Version = "v1", Resource = "daemonsets", Kind = "DaemonSet", Namespaced = true,
        ObjectType = typeof(V1DaemonSet), Strategy = new DaemonSetStrategy(), Printer = new DaemonSetTablePrinter(),
        ShortNames = ["ds"], Categories = ["all"], Subresources = [SubresourceDescription.Status("DaemonSet")],
        ProtobufMessage = "k8s.io.api.apps.v1.DaemonSet",
    };

    public static readonly ResourceDescription StatefulSets = new()
    {
        Group = "apps", Version = "v1", Resource = "statefulsets", Kind = "StatefulSet", Namespaced = true,
        ObjectType = typeof(V1StatefulSet), Strategy = new StatefulSetStrategy(), Printer = new StatefulSetTablePrinter(),
        ShortNames = ["sts"], Categories = ["all"],
        Subresources = [SubresourceDescription.Status("StatefulSet"), SubresourceDescription.ScaleOf(ReplicasScale)],
        ProtobufMessage = "k8s.io.api.apps.v1.StatefulSet",
    };

    public static readonly ResourceDescription ControllerRevisions = new()
    {
        Group = "apps", Version = "v1", Resource = "controllerrevisions", Kind = "ControllerRevision", Namespaced = true,
        ObjectType = typeof(V1ControllerRevision), Strategy = new ControllerRevisionStrategy(),
        Printer = new ControllerRevisionTablePrinter(), ProtobufMessage = "k8s.io.api.apps.v1.ControllerRevision",
    };

    public static IReadOnlyList<ResourceDescription> All => [Deployments, ReplicaSets, DaemonSets, StatefulSets, ControllerRevisions];
}
