using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>apps/v1 DaemonSet: RollingUpdate (maxUnavailable 1, maxSurge 0) and revisionHistoryLimit 10 by default, pod
/// template defaults; selector required, non-empty and matching the template; restartPolicy Always; the rolling update
/// bounds (not both zero); the selector is immutable.</summary>
internal sealed class DaemonSetStrategy : ModelStrategy<V1DaemonSet>
{
    protected override void PrepareForCreate(V1DaemonSet ds)
    {
        ds.Status = new V1DaemonSetStatus();
        DisabledPodFields.DropFromTemplate(ds.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1DaemonSet ds, V1DaemonSet old) =>
        DisabledPodFields.DropFromTemplate(ds.Spec?.Template, old.Spec?.Template);

    protected override void Default(V1DaemonSet ds)
    {
        var spec = ds.Spec ??= new V1DaemonSetSpec();
        spec.UpdateStrategy ??= new V1DaemonSetUpdateStrategy();
        spec.UpdateStrategy.Type ??= "RollingUpdate";
        if (spec.UpdateStrategy.Type == "RollingUpdate")
        {
            spec.UpdateStrategy.RollingUpdate ??= new V1RollingUpdateDaemonSet();
            spec.UpdateStrategy.RollingUpdate.MaxUnavailable ??= 1;
            spec.UpdateStrategy.RollingUpdate.MaxSurge ??= 0;
        }
        spec.RevisionHistoryLimit ??= 10;
        if ((ds.Metadata.Labels is null || ds.Metadata.Labels.Count == 0) && spec.Template?.Metadata?.Labels is { Count: > 0 } labels)
            ds.Metadata.Labels = new Dictionary<string, string>(labels);
        PodSpecs.Default(spec.Template?.Spec);
    }

    protected override void Validate(V1DaemonSet ds, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = ds.Spec!;
        Selectors.ValidateAgainstTemplate(spec.Selector, spec.Template, "daemonset", causes);
        WorkloadRules.ValidateTemplate(spec.Template, "spec.template", causes, ["Always"]);
        WorkloadRules.Nonnegative(spec.MinReadySeconds, "spec.minReadySeconds", causes);
        WorkloadRules.Nonnegative(spec.RevisionHistoryLimit, "spec.revisionHistoryLimit", causes);
        var strategy = spec.UpdateStrategy!;
        switch (strategy.Type)
        {
            case "OnDelete":
                break;
            case "RollingUpdate":
                var rolling = strategy.RollingUpdate!;
                WorkloadRules.PositiveIntOrPercent(rolling.MaxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable", causes);
                WorkloadRules.PositiveIntOrPercent(rolling.MaxSurge, "spec.updateStrategy.rollingUpdate.maxSurge", causes);
                var unavailable = WorkloadRules.Scaled(rolling.MaxUnavailable, 100, false);
                var surge = WorkloadRules.Scaled(rolling.MaxSurge, 100, true);
                if (unavailable == 0 && surge == 0)
                    causes.Add(FieldErrors.Invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", rolling.MaxUnavailable?.Value,
                        "may not be 0 when `maxSurge` is 0"));
                if (unavailable != 0 && surge != 0)
                    causes.Add(FieldErrors.Invalid("spec.updateStrategy.rollingUpdate.maxSurge", rolling.MaxSurge?.Value,
                        "may not be set when maxUnavailable is non-zero"));
                break;
            case null or "":
                causes.Add(FieldErrors.Required("spec.updateStrategy.type"));
                break;
            default:
                causes.Add(FieldErrors.NotSupported("spec.updateStrategy.type", strategy.Type, ["OnDelete", "RollingUpdate"]));
                break;
        }
    }

    protected override void ValidateUpdate(V1DaemonSet ds, V1DaemonSet old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(ds, context, causes);
        Selectors.ValidateImmutable(ds.Spec?.Selector, old.Spec?.Selector, causes);
    }
}
