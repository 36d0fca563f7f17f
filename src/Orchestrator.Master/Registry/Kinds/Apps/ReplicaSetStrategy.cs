using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>apps/v1 ReplicaSet: replicas default 1, pod template defaults, selector required and matching the
/// template's labels, immutable selector.</summary>
internal sealed class ReplicaSetStrategy : ModelStrategy<V1ReplicaSet>
{
    protected override void PrepareForCreate(V1ReplicaSet replicaSet)
    {
        replicaSet.Status = new V1ReplicaSetStatus { Replicas = 0 };
        DisabledPodFields.DropFromTemplate(replicaSet.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1ReplicaSet replicaSet, V1ReplicaSet old) =>
        DisabledPodFields.DropFromTemplate(replicaSet.Spec?.Template, old.Spec?.Template);

    protected override void Default(V1ReplicaSet replicaSet)
    {
        var spec = replicaSet.Spec ??= new V1ReplicaSetSpec();
        spec.Replicas ??= 1;
        PodSpecs.Default(spec.Template?.Spec);
    }

    protected override void Validate(V1ReplicaSet replicaSet, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = replicaSet.Spec!;
        if (spec.Replicas < 0)
            causes.Add(FieldErrors.Invalid("spec.replicas", spec.Replicas, "must be greater than or equal to 0"));
        Selectors.ValidateAgainstTemplate(spec.Selector, spec.Template, "replicaset", causes);
        PodSpecs.Validate(spec.Template?.Spec, "spec.template.spec", causes, ["Always"]);
    }

    protected override void ValidateUpdate(V1ReplicaSet replicaSet, V1ReplicaSet old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(replicaSet, context, causes);
        Selectors.ValidateImmutable(replicaSet.Spec?.Selector, old.Spec?.Selector, causes);
    }
}
