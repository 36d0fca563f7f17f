using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>The rules every object's metadata follows (apimachinery ValidateObjectMeta, the parts we check): the
/// name by the kind's rule on create, label and annotation syntax always.</summary>
internal static class MetadataRules
{
    public static void Validate(V1ObjectMeta metadata, Names.Rule nameRule, bool isCreate, List<StoreErrorCause> causes)
    {
        var name = metadata.Name ?? "";
        if (isCreate)
            foreach (var message in Names.Check(name, nameRule))
                causes.Add(FieldErrors.Invalid("metadata.name", name, message));
        LabelRules.ValidateLabels(metadata.Labels, "metadata.labels", causes);
        LabelRules.ValidateAnnotations(metadata.Annotations, "metadata.annotations", causes);
    }
}
