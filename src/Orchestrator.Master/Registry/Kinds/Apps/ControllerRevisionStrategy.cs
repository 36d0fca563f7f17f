using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>apps/v1 ControllerRevision: a non-negative revision; the data is immutable once written.</summary>
internal sealed class ControllerRevisionStrategy : ModelStrategy<V1ControllerRevision>
{
    protected override void Validate(V1ControllerRevision revision, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        if (revision.Data is null) causes.Add(FieldErrors.Required("data"));
        WorkloadRules.Nonnegative(revision.Revision, "revision", causes);
    }

    protected override void ValidateUpdate(V1ControllerRevision revision, V1ControllerRevision old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(revision, context, causes);
        if (!Shared.Api.KubeObjects.SameJson(revision.Data, old.Data))
            causes.Add(FieldErrors.Invalid("data", new RawValue("runtime.RawExtension{...}"), WorkloadRules.Immutable));
    }
}
