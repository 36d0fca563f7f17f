using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Policy;

/// <summary>policy/v1 PodDisruptionBudget: minAvailable or maxUnavailable (not both), each a non-negative integer or a
/// percentage up to 100%; the selector's syntax; unhealthyPodEvictionPolicy IfHealthyBudget or AlwaysAllow. Status
/// starts empty (the disruption controller fills it).</summary>
internal sealed class PodDisruptionBudgetStrategy : ModelStrategy<V1PodDisruptionBudget>
{
    protected override void PrepareForCreate(V1PodDisruptionBudget pdb) =>
        pdb.Status = new V1PodDisruptionBudgetStatus { CurrentHealthy = 0, DesiredHealthy = 0, DisruptionsAllowed = 0, ExpectedPods = 0 };

    protected override void Default(V1PodDisruptionBudget pdb) => pdb.Spec ??= new V1PodDisruptionBudgetSpec();

    protected override void Validate(V1PodDisruptionBudget pdb, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = pdb.Spec!;
        if (spec.MinAvailable is not null && spec.MaxUnavailable is not null)
            causes.Add(FieldErrors.Invalid("spec", new RawValue("policy.PodDisruptionBudgetSpec{...}"), "minAvailable and maxUnavailable cannot be both set"));
        WorkloadRules.PositiveIntOrPercent(spec.MinAvailable, "spec.minAvailable", causes);
        WorkloadRules.PositiveIntOrPercent(spec.MaxUnavailable, "spec.maxUnavailable", causes);
        if (spec.Selector is not null) LabelRules.ValidateSelector(spec.Selector, "spec.selector", causes);
        if (spec.UnhealthyPodEvictionPolicy is not (null or "IfHealthyBudget" or "AlwaysAllow"))
            causes.Add(FieldErrors.NotSupported("spec.unhealthyPodEvictionPolicy", spec.UnhealthyPodEvictionPolicy, ["AlwaysAllow", "IfHealthyBudget"]));
    }
}
