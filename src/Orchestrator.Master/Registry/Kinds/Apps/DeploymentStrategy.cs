using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>apps/v1 Deployment: Kubernetes' defaults (replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
/// progressDeadlineSeconds 600, pod template defaults) and spec validation; the selector is immutable.</summary>
internal sealed class DeploymentStrategy : ModelStrategy<V1Deployment>
{
    protected override void PrepareForCreate(V1Deployment deployment)
    {
        deployment.Status = new V1DeploymentStatus();
        DisabledPodFields.DropFromTemplate(deployment.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1Deployment deployment, V1Deployment old) =>
        DisabledPodFields.DropFromTemplate(deployment.Spec?.Template, old.Spec?.Template);

    /// <summary>As deployment's strategy.go: annotation changes bump the generation too (they are copied to the replica
    /// sets), not only spec changes.</summary>
    protected override bool GenerationChanged(V1Deployment deployment, V1Deployment old) =>
        base.GenerationChanged(deployment, old) || !SameMap(deployment.Metadata.Annotations, old.Metadata.Annotations);

    /// <summary>/status keeps the spec and the labels and takes the rest: the controller records the revision
    /// annotation through it (UpdateStatus), so that a new rollout's revision does not bump the generation.</summary>
    protected override V1Deployment PrepareForStatusUpdate(V1Deployment deployment, V1Deployment old)
    {
        old.Status = deployment.Status;
        old.Metadata.Annotations = deployment.Metadata.Annotations;
        return old;
    }

    /// <summary>Semantic equality of two string maps (nil and empty are equal).</summary>
    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value);

    protected override void Default(V1Deployment deployment)
    {
        var spec = deployment.Spec ??= new V1DeploymentSpec();
        spec.Replicas ??= 1;
        spec.Strategy ??= new V1DeploymentStrategy();
        spec.Strategy.Type ??= "RollingUpdate";
        if (spec.Strategy.Type == "RollingUpdate")
        {
            spec.Strategy.RollingUpdate ??= new V1RollingUpdateDeployment();
            spec.Strategy.RollingUpdate.MaxUnavailable ??= "25%";
            spec.Strategy.RollingUpdate.MaxSurge ??= "25%";
        }
        spec.RevisionHistoryLimit ??= 10;
        spec.ProgressDeadlineSeconds ??= 600;
        PodSpecs.Default(spec.Template?.Spec);
    }

    protected override void Validate(V1Deployment deployment, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = deployment.Spec!;
        if (spec.Replicas < 0)
            causes.Add(FieldErrors.Invalid("spec.replicas", spec.Replicas, "must be greater than or equal to 0"));
        if (spec.Strategy!.Type is not ("RollingUpdate" or "Recreate"))
            causes.Add(FieldErrors.NotSupported("spec.strategy.type", spec.Strategy.Type, ["Recreate", "RollingUpdate"]));
        else if (spec.Strategy.Type == "Recreate" && spec.Strategy.RollingUpdate is not null)
            causes.Add(FieldErrors.Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
        Selectors.ValidateAgainstTemplate(spec.Selector, spec.Template, "deployment", causes);
        PodSpecs.Validate(spec.Template?.Spec, "spec.template.spec", causes, ["Always"]);
    }

    protected override void ValidateUpdate(V1Deployment deployment, V1Deployment old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(deployment, context, causes);
        Selectors.ValidateImmutable(deployment.Spec?.Selector, old.Spec?.Selector, causes);
    }
}
