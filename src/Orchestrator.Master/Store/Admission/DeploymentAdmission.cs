using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Store.Admission;

/// <summary>apps/v1 Deployment: Kubernetes' defaults (replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
/// progressDeadlineSeconds 600, pod template defaults) and spec validation; the selector is immutable.</summary>
internal sealed class DeploymentAdmission : IKindAdmission
{
    public void Admit(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        var deployment = (V1Deployment)obj;
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
        if (old is null) deployment.Status = new V1DeploymentStatus();

        if (spec.Replicas < 0)
            causes.Add(FieldErrors.Invalid("spec.replicas", spec.Replicas, "must be greater than or equal to 0"));
        if (spec.Strategy.Type is not ("RollingUpdate" or "Recreate"))
            causes.Add(FieldErrors.NotSupported("spec.strategy.type", spec.Strategy.Type, ["Recreate", "RollingUpdate"]));
        else if (spec.Strategy.Type == "Recreate" && spec.Strategy.RollingUpdate is not null)
            causes.Add(FieldErrors.Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
        Selectors.ValidateAgainstTemplate(spec.Selector, spec.Template, "deployment", causes);
        PodSpecs.Validate(spec.Template?.Spec, "spec.template.spec", causes, ["Always"]);
        if (old is V1Deployment previous && previous.Spec?.Selector is { } selector && spec.Selector is not null &&
            !KubeObjects.SameJson(selector, spec.Selector))
            causes.Add(FieldErrors.Invalid("spec.selector", Selectors.Format(spec.Selector), "field is immutable"));
    }
}
