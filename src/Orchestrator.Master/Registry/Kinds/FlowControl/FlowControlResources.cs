using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.FlowControl;

/// <summary>The flowcontrol.apiserver.k8s.io group (API Priority and Fairness): FlowSchemas and
/// PriorityLevelConfigurations with their /status. The API layer's request filter reads them; the configuration
/// controller keeps the bootstrap objects and the FlowSchemas' Dangling condition.</summary>
internal static class FlowControlResources
{
    public const string Group = "flowcontrol.apiserver.k8s.io";

    public static readonly ResourceDescription FlowSchemas = new()
    {
        Group = Group, Version = "v1", Resource = "flowschemas", Kind = "FlowSchema", Namespaced = false,
        ObjectType = typeof(V1FlowSchema), Strategy = new FlowSchemaStrategy(), Printer = new FlowSchemaTablePrinter(),
        Subresources = [SubresourceDescription.Status("FlowSchema")],
        ProtobufMessage = "k8s.io.api.flowcontrol.v1.FlowSchema",
    };

    public static readonly ResourceDescription PriorityLevelConfigurations = new()
    {
        Group = Group, Version = "v1", Resource = "prioritylevelconfigurations", Kind = "PriorityLevelConfiguration", Namespaced = false,
        ObjectType = typeof(V1PriorityLevelConfiguration), Strategy = new PriorityLevelConfigurationStrategy(),
        Printer = new PriorityLevelConfigurationTablePrinter(),
        Subresources = [SubresourceDescription.Status("PriorityLevelConfiguration")],
        ProtobufMessage = "k8s.io.api.flowcontrol.v1.PriorityLevelConfiguration",
    };

    public static IReadOnlyList<ResourceDescription> All => [FlowSchemas, PriorityLevelConfigurations];
}
