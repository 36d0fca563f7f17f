using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>The number, immutability and pod-template rules the workload kinds share (Kubernetes' apivalidation
/// ValidateNonnegativeField, ValidateImmutableField, ValidatePositiveIntOrPercent, IsNotMoreThan100Percent), with the
/// API server's messages.</summary>
internal static class WorkloadRules
{
    public const string NonNegative = "must be greater than or equal to 0";
    public const string Immutable = "field is immutable";

    public static void Nonnegative(long? value, string path, List<StoreErrorCause> causes)
    {
        if (value is < 0) causes.Add(FieldErrors.Invalid(path, value.Value, NonNegative));
    }

    /// <summary>A field that may not change once set (compared as JSON); the value is printed as JSON.</summary>
    public static void Unchanged(object? value, object? old, string path, List<StoreErrorCause> causes)
    {
        if (!KubeObjects.SameJson(value, old))
            causes.Add(FieldErrors.Invalid(path, value is null or string or int or long or bool ? value : new RawValue(KubeObjects.Serialize(value)),
                Immutable));
    }

    /// <summary>An IntOrString that must be a non-negative integer or a percentage ("25%"), at most 100% when a percentage.</summary>
    public static void PositiveIntOrPercent(IntOrString? value, string path, List<StoreErrorCause> causes)
    {
        if (value?.Value is not { } text) return;
        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text[..^1], out var percent))
                causes.Add(FieldErrors.Invalid(path, text, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
            else if (percent < 0) causes.Add(FieldErrors.Invalid(path, text, NonNegative));
            else if (percent > 100) causes.Add(FieldErrors.Invalid(path, text, "must not be greater than 100%"));
        }
        else if (int.TryParse(text, out var n))
        {
            if (n < 0) causes.Add(FieldErrors.Invalid(path, n, NonNegative));
        }
        else causes.Add(FieldErrors.Invalid(path, text, "must be an integer or percentage (e.g '5%')"));
    }

    /// <summary>The value of an IntOrString against a total: the integer, or the percentage of it rounded up or down.</summary>
    public static int Scaled(IntOrString? value, int total, bool roundUp, int fallback = 0)
    {
        var text = value?.Value;
        if (text is null) return fallback;
        if (!text.EndsWith('%')) return int.TryParse(text, out var n) ? n : fallback;
        if (!int.TryParse(text[..^1], out var percent)) return fallback;
        var exact = percent * (double)total / 100;
        return (int)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
    }

    /// <summary>A workload pod template: pod spec defaults and rules, and a restart policy among <paramref name="restartPolicies"/>;
    /// activeDeadlineSeconds is forbidden where the pods are meant to run forever.</summary>
    public static void ValidateTemplate(V1PodTemplateSpec? template, string path, List<StoreErrorCause> causes, string[] restartPolicies,
        bool forbidActiveDeadline = true)
    {
        if (template is null)
        {
            causes.Add(FieldErrors.Required($"{path}.spec.containers"));
            return;
        }
        LabelRules.ValidateLabels(template.Metadata?.Labels, $"{path}.metadata.labels", causes);
        LabelRules.ValidateAnnotations(template.Metadata?.Annotations, $"{path}.metadata.annotations", causes);
        PodSpecs.Validate(template.Spec, $"{path}.spec", causes, restartPolicies);
        if (forbidActiveDeadline && template.Spec?.ActiveDeadlineSeconds is not null)
            causes.Add(FieldErrors.Forbidden($"{path}.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicationController is not Supported"));
    }

    public static StoreErrorCause TooMany(string path, int actual, int max) =>
        new(path, "FieldValueTooMany", $"Too many: {actual}: must have at most {max} items");

    /// <summary>Refuses a kind whose behaviour (controller or admission) this cluster does not have yet: such an object
    /// would be stored and never act. Kubernetes has no such answer; the message says what is missing.</summary>
    public static void NotActedOnYet(string field, string missing, List<StoreErrorCause> causes) =>
        causes.Add(FieldErrors.Forbidden(field, $"{missing} does not run in this cluster yet, so this object would never take effect"));
}
