using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Apps;

/// <summary>apps/v1 StatefulSet: defaults (replicas 1, OrderedReady, RollingUpdate with partition 0, revisionHistoryLimit
/// 10, PVC retention Retain/Retain, pod template defaults), the spec rules, and on update only replicas, ordinals,
/// template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
/// rollingUpdate.maxUnavailable (an alpha field in 1.32, behind MaxUnavailableStatefulSet) is served as if enabled.
/// volumeClaimTemplates need a name, access modes and a storage request.</summary>
internal sealed class StatefulSetStrategy : ModelStrategy<V1StatefulSet>
{
    protected override void PrepareForCreate(V1StatefulSet sts)
    {
        sts.Status = new V1StatefulSetStatus { Replicas = 0 };
        DisabledPodFields.DropFromTemplate(sts.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1StatefulSet sts, V1StatefulSet old) =>
        DisabledPodFields.DropFromTemplate(sts.Spec?.Template, old.Spec?.Template);

    protected override void Default(V1StatefulSet sts)
    {
        var spec = sts.Spec ??= new V1StatefulSetSpec();
        spec.Replicas ??= 1;
        spec.PodManagementPolicy ??= "OrderedReady";
        spec.UpdateStrategy ??= new V1StatefulSetUpdateStrategy();
        spec.UpdateStrategy.Type ??= "RollingUpdate";
        if (spec.UpdateStrategy.Type == "RollingUpdate")
        {
            spec.UpdateStrategy.RollingUpdate ??= new V1RollingUpdateStatefulSetStrategy();
            spec.UpdateStrategy.RollingUpdate.Partition ??= 0;
        }
        spec.RevisionHistoryLimit ??= 10;
        spec.PersistentVolumeClaimRetentionPolicy ??= new V1StatefulSetPersistentVolumeClaimRetentionPolicy();
        spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted ??= "Retain";
        spec.PersistentVolumeClaimRetentionPolicy.WhenScaled ??= "Retain";
        if ((sts.Metadata.Labels is null || sts.Metadata.Labels.Count == 0) && spec.Template?.Metadata?.Labels is { Count: > 0 } labels)
            sts.Metadata.Labels = new Dictionary<string, string>(labels);
        PodSpecs.Default(spec.Template?.Spec);
        foreach (var claim in spec.VolumeClaimTemplates ?? [])
        {
            claim.Spec ??= new V1PersistentVolumeClaimSpec();
            claim.Spec.VolumeMode ??= "Filesystem";
        }
    }

    protected override void Validate(V1StatefulSet sts, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = sts.Spec!;
        WorkloadRules.Nonnegative(spec.Replicas, "spec.replicas", causes);
        WorkloadRules.Nonnegative(spec.MinReadySeconds, "spec.minReadySeconds", causes);
        WorkloadRules.Nonnegative(spec.RevisionHistoryLimit, "spec.revisionHistoryLimit", causes);
        WorkloadRules.Nonnegative(spec.Ordinals?.Start, "spec.ordinals.start", causes);
        if (spec.PodManagementPolicy is not ("OrderedReady" or "Parallel"))
            causes.Add(FieldErrors.NotSupported("spec.podManagementPolicy", spec.PodManagementPolicy, ["OrderedReady", "Parallel"]));
        var strategy = spec.UpdateStrategy!;
        switch (strategy.Type)
        {
            case "OnDelete":
                if (strategy.RollingUpdate is not null)
                    causes.Add(FieldErrors.Invalid("spec.updateStrategy.rollingUpdate", new RawValue("apps.RollingUpdateStatefulSetStrategy{...}"),
                        "only allowed for updateStrategy 'RollingUpdate'"));
                break;
            case "RollingUpdate":
                WorkloadRules.Nonnegative(strategy.RollingUpdate?.Partition, "spec.updateStrategy.rollingUpdate.partition", causes);
                if (strategy.RollingUpdate?.MaxUnavailable is { } maxUnavailable)
                {
                    WorkloadRules.PositiveIntOrPercent(maxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable", causes);
                    if (WorkloadRules.Scaled(maxUnavailable, 100, false, 1) == 0 && !maxUnavailable.Value.EndsWith('%'))
                        causes.Add(FieldErrors.Invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", 0, "must be greater than 0"));
                }
                break;
            case null or "":
                causes.Add(FieldErrors.Required("spec.updateStrategy", ""));
                break;
            default:
                causes.Add(FieldErrors.Invalid("spec.updateStrategy", strategy.Type,
                    "must be 'RollingUpdate' or 'OnDelete'"));
                break;
        }
        var retention = spec.PersistentVolumeClaimRetentionPolicy!;
        if (retention.WhenDeleted is not ("Retain" or "Delete"))
            causes.Add(FieldErrors.NotSupported("spec.persistentVolumeClaimRetentionPolicy.whenDeleted", retention.WhenDeleted, ["Retain", "Delete"]));
        if (retention.WhenScaled is not ("Retain" or "Delete"))
            causes.Add(FieldErrors.NotSupported("spec.persistentVolumeClaimRetentionPolicy.whenScaled", retention.WhenScaled, ["Retain", "Delete"]));
        Selectors.ValidateAgainstTemplate(spec.Selector, spec.Template, "statefulset", causes);
        WorkloadRules.ValidateTemplate(spec.Template, "spec.template", causes, ["Always"]);
        if (!string.IsNullOrEmpty(spec.ServiceName))
            foreach (var message in Names.Check(spec.ServiceName, Names.Rule.Dns1123Label))
                causes.Add(FieldErrors.Invalid("spec.serviceName", spec.ServiceName, message));
        for (var i = 0; i < (spec.VolumeClaimTemplates?.Count ?? 0); i++)
        {
            var claim = spec.VolumeClaimTemplates![i];
            if (string.IsNullOrEmpty(claim.Metadata?.Name)) causes.Add(FieldErrors.Required($"spec.volumeClaimTemplates[{i}].metadata.name"));
            else
                foreach (var message in Names.Check(claim.Metadata.Name, Names.Rule.Dns1123Subdomain))
                    causes.Add(FieldErrors.Invalid($"spec.volumeClaimTemplates[{i}].metadata.name", claim.Metadata.Name, message));
            if (claim.Spec?.AccessModes is not { Count: > 0 })
                causes.Add(FieldErrors.Required($"spec.volumeClaimTemplates[{i}].spec.accessModes", "at least 1 access mode is required"));
            if (claim.Spec?.Resources?.Requests?.ContainsKey("storage") != true)
                causes.Add(FieldErrors.Required($"spec.volumeClaimTemplates[{i}].spec.resources[storage]"));
        }
    }

    protected override void ValidateUpdate(V1StatefulSet sts, V1StatefulSet old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(sts, context, causes);
        var allowed = KubeObjects.Clone(old.Spec!);
        var next = sts.Spec!;
        allowed.Replicas = next.Replicas;
        allowed.Ordinals = next.Ordinals;
        allowed.Template = next.Template;
        allowed.UpdateStrategy = next.UpdateStrategy;
        allowed.RevisionHistoryLimit = next.RevisionHistoryLimit;
        allowed.PersistentVolumeClaimRetentionPolicy = next.PersistentVolumeClaimRetentionPolicy;
        allowed.MinReadySeconds = next.MinReadySeconds;
        if (!KubeObjects.SameJson(allowed, next))
            causes.Add(FieldErrors.Forbidden("spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', " +
                "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
    }
}
