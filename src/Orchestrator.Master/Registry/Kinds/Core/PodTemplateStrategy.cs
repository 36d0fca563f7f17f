using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 PodTemplate (ValidatePodTemplate): the template's labels and annotations, and its pod spec with the
/// pod defaults (any restart policy).</summary>
internal sealed class PodTemplateStrategy : ModelStrategy<V1PodTemplate>
{
    // Its strategy keeps a generation though the kind has no spec: 1 on create, bumped by any change of the template.
    public PodTemplateStrategy() => HasGeneration = true;

    protected override bool GenerationChanged(V1PodTemplate template, V1PodTemplate old) =>
        !KubeObjects.SameJson(template.Template, old.Template);

    protected override void Default(V1PodTemplate template) => PodSpecs.Default(template.Template?.Spec);

    protected override void PrepareForCreate(V1PodTemplate template) => DisabledPodFields.DropFromTemplate(template.Template, null);

    protected override void PrepareForUpdate(V1PodTemplate template, V1PodTemplate old) =>
        DisabledPodFields.DropFromTemplate(template.Template, old.Template);

    protected override void Validate(V1PodTemplate template, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        LabelRules.ValidateLabels(template.Template?.Metadata?.Labels, "template.metadata.labels", causes);
        LabelRules.ValidateAnnotations(template.Template?.Metadata?.Annotations, "template.metadata.annotations", causes);
        PodSpecs.Validate(template.Template?.Spec, "template.spec", causes);
    }
}
