using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Policy;

/// <summary>The policy group (<c>/apis/policy/v1</c>): PodDisruptionBudgets (Evictions are the pods' subresource).</summary>
internal static class PolicyResources
{
    public static readonly ResourceDescription PodDisruptionBudgets = new()
    {
        Group = "policy", Version = "v1", Resource = "poddisruptionbudgets", Kind = "PodDisruptionBudget", Namespaced = true,
        ObjectType = typeof(V1PodDisruptionBudget), Strategy = new PodDisruptionBudgetStrategy(),
        Printer = new PodDisruptionBudgetTablePrinter(), ShortNames = ["pdb"],
        Subresources = [SubresourceDescription.Status("PodDisruptionBudget")],
        ProtobufMessage = "k8s.io.api.policy.v1.PodDisruptionBudget",
    };

    public static IReadOnlyList<ResourceDescription> All => [PodDisruptionBudgets];
}
