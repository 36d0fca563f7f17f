using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>The apiextensions.k8s.io group: CustomResourceDefinitions themselves.</summary>
internal static class CustomResourceDefinitionResources
{
    public static readonly ResourceDescription CustomResourceDefinitions = new()
    {
        Group = "apiextensions.k8s.io", Version = "v1", Resource = "customresourcedefinitions", Kind = "CustomResourceDefinition",
        Namespaced = false, ObjectType = typeof(V1CustomResourceDefinition), Strategy = new CustomResourceDefinitionStrategy(),
        Printer = new CustomResourceDefinitionTablePrinter(), ShortNames = ["crd", "crds"], Categories = ["api-extensions"],
        Subresources = [SubresourceDescription.Status("CustomResourceDefinition")],
        ProtobufMessage = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    };

    public static IReadOnlyList<ResourceDescription> All => [CustomResourceDefinitions];
}

/// <summary>NAME CREATED AT, as <c>kubectl get crd</c> prints them.</summary>
internal sealed class CustomResourceDefinitionTablePrinter : TablePrinter<V1CustomResourceDefinition>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        new("Created At", "date", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0),
    ];

    protected override IReadOnlyList<object> Cells(V1CustomResourceDefinition crd, DateTime now) =>
        [crd.Metadata.Name, crd.Metadata.CreationTimestamp?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") ?? ""];
}
