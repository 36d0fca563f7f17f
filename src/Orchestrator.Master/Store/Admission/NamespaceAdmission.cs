using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store.Admission;

/// <summary>core/v1 Namespace: the kubernetes finalizer, the kubernetes.io/metadata.name label and phase Active,
/// as the API server sets them.</summary>
internal sealed class NamespaceAdmission : IKindAdmission
{
    public const string NameLabel = "kubernetes.io/metadata.name";

    public void Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        var ns = (V1Namespace)obj;
        ns.Metadata.Labels ??= new Dictionary<string, string>();
        ns.Metadata.Labels[NameLabel] = ns.Metadata.Name;
        if (old is null)
        {
            ns.Spec ??= new V1NamespaceSpec();
            ns.Spec.Finalizers ??= ["kubernetes"];
        }
        ns.Status ??= new V1NamespaceStatus();
        ns.Status.Phase ??= "Active";
    }
}
