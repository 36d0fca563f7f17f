using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Scheduling;

/// <summary>
/// scheduling.k8s.io/v1 PriorityClass: preemptionPolicy PreemptLowerPriority by default; user classes up to one billion;
/// names starting "system-" only for the two built-in classes with their values; one globalDefault at most (the
/// Priority admission plugin's rule); value and preemptionPolicy immutable.
/// </summary>
internal sealed class PriorityClassStrategy : ModelStrategy<V1PriorityClass>
{
    public const int HighestUserDefinablePriority = 1_000_000_000;
    public const string SystemPrefix = "system-";

    /// <summary>The classes every cluster has (created by the store at start).</summary>
    public static IReadOnlyList<V1PriorityClass> SystemClasses => DefaultObjects.SystemPriorityClasses();

    // Its strategy sets generation 1 on create and never bumps it (the class has no spec; value is immutable).
    public PriorityClassStrategy() => HasGeneration = true;

    protected override void Default(V1PriorityClass pc) => pc.PreemptionPolicy ??= "PreemptLowerPriority";

    protected override void Validate(V1PriorityClass pc, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        ValidateOwn(pc, causes);
        if (pc.GlobalDefault == true &&
            context.List("priorityclasses").OfType<V1PriorityClass>().FirstOrDefault(o => o.GlobalDefault == true && o.Metadata.Name != pc.Metadata.Name) is { } other)
            causes.Add(FieldErrors.Forbidden("globalDefault", $"PriorityClass {other.Metadata.Name} is already marked as default. Only one default can exist"));
    }

    private static void ValidateOwn(V1PriorityClass pc, List<StoreErrorCause> causes)
    {
        if (pc.Metadata.Name.StartsWith(SystemPrefix, StringComparison.Ordinal))
        {
            var known = SystemClasses.FirstOrDefault(s => s.Metadata.Name == pc.Metadata.Name);
            if (known is null)
                causes.Add(FieldErrors.Forbidden("metadata.name",
                    $"priority class names with '{SystemPrefix}' prefix are reserved for system use only. error: {pc.Metadata.Name} is not a known system priority class"));
            else if (known.Value != pc.Value)
                causes.Add(FieldErrors.Forbidden("metadata.name",
                    $"priority class names with '{SystemPrefix}' prefix are reserved for system use only. error: value of {pc.Metadata.Name} PriorityClass must be {known.Value}"));
        }
        else if (pc.Value > HighestUserDefinablePriority)
            causes.Add(FieldErrors.Forbidden("value", $"maximum allowed value of a user defined priority is {HighestUserDefinablePriority}"));
        if (pc.PreemptionPolicy is not ("PreemptLowerPriority" or "Never"))
            causes.Add(FieldErrors.NotSupported("preemptionPolicy", pc.PreemptionPolicy, ["Never", "PreemptLowerPriority"]));
    }

    protected override void ValidateUpdate(V1PriorityClass pc, V1PriorityClass old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(pc, context, causes);
        if (pc.Value != old.Value) causes.Add(FieldErrors.Forbidden("value", "may not be changed in an update."));
        WorkloadRules.Unchanged(pc.PreemptionPolicy, old.PreemptionPolicy, "preemptionPolicy", causes);
    }
}
