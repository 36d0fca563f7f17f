using k8s.Models;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>The core group's policy kinds: ResourceQuotas and LimitRanges (enforced by the quota and limit-range
/// admission plugins).</summary>
internal static class QuotaResources
{
    public static readonly ResourceDescription ResourceQuotas = new()
    {
        Group = "", Version = "v1", Resource = "resourcequotas", Kind = "ResourceQuota", Namespaced = true,
        ObjectType = typeof(V1ResourceQuota), Strategy = new ResourceQuotaStrategy(), Printer = new ResourceQuotaTablePrinter(),
        ShortNames = ["quota"], Subresources = [SubresourceDescription.Status("ResourceQuota")],
        ProtobufMessage = "k8s.io.api.core.v1.ResourceQuota",
    };

    public static readonly ResourceDescription LimitRanges = new()
    {
        Group = "", Version = "v1", Resource = "limitranges", Kind = "LimitRange", Namespaced = true,
        ObjectType = typeof(V1LimitRange), Strategy = new LimitRangeStrategy(), Printer = new LimitRangeTablePrinter(),
        ShortNames = ["limits"], ProtobufMessage = "k8s.io.api.core.v1.LimitRange",
    };

    public static IReadOnlyList<ResourceDescription> All => [ResourceQuotas, LimitRanges];
}
