using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Scheduling;

/// <summary>The scheduling.k8s.io group (<c>/apis/scheduling.k8s.io/v1</c>).</summary>
internal static class SchedulingResources
{
    public static readonly ResourceDescription PriorityClasses = new()
    {
        Group = "scheduling.k8s.io", Version = "v1", Resource = "priorityclasses", Kind = "PriorityClass", Namespaced = false,
        ObjectType = typeof(V1PriorityClass), Strategy = new PriorityClassStrategy(), Printer = new PriorityClassTablePrinter(),
        ShortNames = ["pc"], ProtobufMessage = "k8s.io.api.scheduling.v1.PriorityClass",
    };

    public static IReadOnlyList<ResourceDescription> All => [PriorityClasses];
}
