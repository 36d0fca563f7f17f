using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>The selector rules of workload controllers: a selector is required, non-empty, and must select
/// its own template's labels (Kubernetes' ValidateDeploymentSpec/ValidateReplicaSetSpec wording).</summary>
internal static class Selectors
{
    public static void ValidateAgainstTemplate(V1LabelSelector? selector, V1PodTemplateSpec? template, string kindWord,
        List<StoreErrorCause> causes)
    {
        if (selector is null)
        {
            causes.Add(FieldErrors.Required("spec.selector"));
            return;
        }
        var syntax = new List<StoreErrorCause>();
        LabelRules.ValidateSelector(selector, "spec.selector", syntax);
        LabelRules.ValidateLabels(template?.Metadata?.Labels, "spec.template.metadata.labels", syntax);
        if (syntax.Count > 0)
        {
            // A selector that does not parse cannot be matched against the template.
            causes.AddRange(syntax);
            return;
        }
        var parsed = LabelSelector.FromLabelSelector(selector);
        if (parsed.IsEmpty)
        {
            causes.Add(FieldErrors.Invalid("spec.selector", Format(selector), $"empty selector is invalid for {kindWord}"));
            return;
        }
        var labels = template?.Metadata?.Labels ?? new Dictionary<string, string>();
        if (!parsed.Matches(labels))
            causes.Add(FieldErrors.Invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
    }

    /// <summary>A workload's selector may not change once set (apps/v1).</summary>
    public static void ValidateImmutable(V1LabelSelector? selector, V1LabelSelector? old, List<StoreErrorCause> causes)
    {
        if (old is not null && selector is not null && !KubeObjects.SameJson(old, selector))
            causes.Add(FieldErrors.Invalid("spec.selector", Format(selector), "field is immutable"));
    }

    /// <summary>Go's %#v of a LabelSelector, as Kubernetes prints it in an Invalid value (raw, unquoted).</summary>
    public static RawValue Format(V1LabelSelector selector)
    {
        var labels = selector.MatchLabels is { Count: > 0 } m ? FieldErrors.Format(m) : "map[string]string(nil)";
        var expressions = selector.MatchExpressions is { Count: > 0 } e
            ? "[]v1.LabelSelectorRequirement{" + string.Join(", ", e.Select(r =>
                $"v1.LabelSelectorRequirement{{Key:{FieldErrors.Format(r.Key)}, Operator:{FieldErrors.Format(r.OperatorProperty)}, " +
                $"Values:[]string{{{string.Join(", ", (r.Values ?? []).Select(v => FieldErrors.Format(v)))}}}}}")) + "}"
            : "[]v1.LabelSelectorRequirement(nil)";
        return new RawValue($"v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}");
    }
}

/// <summary>A value already in Go's notation, printed as is.</summary>
internal sealed record RawValue(string Text)
{
    public override string ToString() => Text;
}
