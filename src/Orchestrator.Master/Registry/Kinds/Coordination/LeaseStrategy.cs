using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Coordination;

/// <summary>coordination/v1 Lease (ValidateLease): a positive duration, transitions not negative. The coordinated
/// leader election fields (strategy, preferredHolder) belong to an alpha feature that is off in 1.32, so the API
/// server drops them.</summary>
internal sealed class LeaseStrategy : ModelStrategy<V1Lease>
{
    public LeaseStrategy() => HasGeneration = false; // its 1.32 strategy keeps no metadata.generation

    protected override void Default(V1Lease lease)
    {
        if (lease.Spec is not { } spec) return;
        spec.Strategy = null;
        spec.PreferredHolder = null;
    }

    protected override void Validate(V1Lease lease, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (lease.Spec is not { } spec) return;
        if (spec.LeaseDurationSeconds is <= 0)
            causes.Add(FieldErrors.Invalid("spec.leaseDurationSeconds", spec.LeaseDurationSeconds, "must be greater than 0"));
        if (spec.LeaseTransitions is < 0)
            causes.Add(FieldErrors.Invalid("spec.leaseTransitions", spec.LeaseTransitions, "must be greater than or equal to 0"));
    }
}
