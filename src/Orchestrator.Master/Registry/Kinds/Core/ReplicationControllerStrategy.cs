using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 ReplicationController: replicas default 1, selector defaults to the template's labels
/// (as Kubernetes does), and the selector must select the template.</summary>
internal sealed class ReplicationControllerStrategy : ModelStrategy<V1ReplicationController>
{
    protected override void PrepareForCreate(V1ReplicationController rc)
    {
        rc.Status = new V1ReplicationControllerStatus { Replicas = 0 };
        DisabledPodFields.DropFromTemplate(rc.Spec?.Template, null);
    }

    protected override void PrepareForUpdate(V1ReplicationController rc, V1ReplicationController old) =>
        DisabledPodFields.DropFromTemplate(rc.Spec?.Template, old.Spec?.Template);

    protected override void Default(V1ReplicationController rc)
    {
        var spec = rc.Spec ??= new V1ReplicationControllerSpec();
        spec.Replicas ??= 1;
        var templateLabels = spec.Template?.Metadata?.Labels;
        if ((spec.Selector is null || spec.Selector.Count == 0) && templateLabels is { Count: > 0 })
            spec.Selector = new Dictionary<string, string>(templateLabels);
        if ((rc.Metadata.Labels is null || rc.Metadata.Labels.Count == 0) && templateLabels is { Count: > 0 })
            rc.Metadata.Labels = new Dictionary<string, string>(templateLabels);
        PodSpecs.Default(spec.Template?.Spec);
    }

    protected override void Validate(V1ReplicationController rc, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var spec = rc.Spec!;
        if (spec.Replicas < 0)
            causes.Add(FieldErrors.Invalid("spec.replicas", spec.Replicas, "must be greater than or equal to 0"));
        if (spec.Selector is null || spec.Selector.Count == 0)
            causes.Add(FieldErrors.Required("spec.selector"));
        if (spec.Template is null)
        {
            causes.Add(FieldErrors.Required("spec.template"));
            return;
        }
        var templateLabels = spec.Template.Metadata?.Labels;
        if (spec.Selector is { Count: > 0 } selector && !LabelSelector.FromMap(selector).Matches(templateLabels))
            causes.Add(FieldErrors.Invalid("spec.template.metadata.labels", templateLabels ?? new Dictionary<string, string>(),
                "`selector` does not match template `labels`"));
        PodSpecs.Validate(spec.Template.Spec, "spec.template.spec", causes, ["Always"]);
    }
}
