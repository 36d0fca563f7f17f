using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 Namespace: the kubernetes finalizer, the kubernetes.io/metadata.name label and phase Active,
/// as the API server sets them; names are DNS-1123 labels.</summary>
internal sealed class NamespaceStrategy : ModelStrategy<V1Namespace>
{
    public const string NameLabel = "kubernetes.io/metadata.name";

    public override Names.Rule NameRule => Names.Rule.Dns1123Label;

    protected override void PrepareForCreate(V1Namespace ns)
    {
        ns.Spec ??= new V1NamespaceSpec();
        ns.Spec.Finalizers ??= ["kubernetes"];
    }

    protected override void Default(V1Namespace ns)
    {
        ns.Metadata.Labels ??= new Dictionary<string, string>();
        ns.Metadata.Labels[NameLabel] = ns.Metadata.Name;
        ns.Status ??= new V1NamespaceStatus();
        ns.Status.Phase ??= "Active";
    }
}
