using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store.Admission;

/// <summary>core/v1 Pod: pod spec defaults, containers with name and image, status Pending with its QoS class on
/// create. The spec stays updatable: binding sets spec.nodeName through an update.</summary>
public sealed class PodAdmission : IKindAdmission
{
    public void Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        var pod = (V1Pod)obj;
        pod.Spec ??= new V1PodSpec();
        PodSpecs.Default(pod.Spec);
        PodSpecs.Validate(pod.Spec, "spec", causes);
        if (old is null)
            pod.Status = new V1PodStatus { Phase = "Pending", QosClass = PodSpecs.QosClass(pod.Spec) };
    }
}
