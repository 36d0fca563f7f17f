using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store.Admission;

/// <summary>apps/v1 ReplicaSet: replicas default 1, pod template defaults, selector required and matching the
/// template's labels, immutable selector.</summary>
internal sealed class ReplicaSetAdmission : IKindAdmission
{
    public void Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        var replicaSet = (V1ReplicaSet)obj;
        var spec = replicaSet.Spec ??= new V1ReplicaSetSpec();
        spec.Replicas ??= 1;
        PodSpecs.Default(spec.Template?.Spec);
        if (old is null) replicaSet.Status = new V1ReplicaSetStatus { Replicas = 0 };

        if (spec.Replicas < 0)
            causes.Add(FieldErrors.Invalid("spec.replicas", spec.Replicas, "must be greater than or equal to 0"));
        Selectors.ValidateAgainstTemplate(spec.Selector, spec.Template, "replicaset", causes);
        PodSpecs.Validate(spec.Template?.Spec, "spec.template.spec", causes, ["Always"]);
        if (old is V1ReplicaSet previous && previous.Spec?.Selector is { } selector && spec.Selector is not null &&
            !KubeObjects.SameJson(selector, spec.Selector))
            causes.Add(FieldErrors.Invalid("spec.selector", Selectors.Format(spec.Selector), "field is immutable"));
    }
}
