using System.Text;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// Kubernetes' label, annotation and label-selector syntax (apimachinery ValidateLabels, ValidateAnnotations,
/// ValidateLabelSelector) with the API server's messages. A key is a qualified name (optional DNS-1123 subdomain
/// prefix and '/', then a name part of at most 63 characters); a value is empty or a name part.
/// </summary>
internal static class LabelRules
{
    private const int TotalAnnotationSizeLimit = 256 * 1024;
    private static readonly string[] Operators = ["In", "NotIn", "Exists", "DoesNotExist"];

    /// <summary>The messages for a label or annotation key that is not a qualified name.</summary>
    public static IEnumerable<string> CheckKey(string key) => LabelSyntax.KeyProblems(key);

    public static IEnumerable<string> CheckValue(string value) => LabelSyntax.ValueProblems(value);

    public static void ValidateLabels(IDictionary<string, string>? labels, string path, List<StoreErrorCause> causes)
    {
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            foreach (var message in CheckKey(key)) causes.Add(FieldErrors.Invalid(path, key, message));
            foreach (var message in CheckValue(value ?? "")) causes.Add(FieldErrors.Invalid(path, value, message));
        }
    }

    public static void ValidateAnnotations(IDictionary<string, string>? annotations, string path, List<StoreErrorCause> causes)
    {
        var total = 0;
        foreach (var (key, value) in annotations ?? new Dictionary<string, string>())
        {
            foreach (var message in CheckKey(key.ToLowerInvariant())) causes.Add(FieldErrors.Invalid(path, key, message));
            total += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value ?? "");
        }
        if (total > TotalAnnotationSizeLimit)
            causes.Add(new StoreErrorCause(path, "FieldValueTooLong", $"Too long: may not be more than {TotalAnnotationSizeLimit} bytes"));
    }

    /// <summary>A LabelSelector's syntax: matchLabels as labels, each expression's key, operator and values.</summary>
    public static void ValidateSelector(V1LabelSelector selector, string path, List<StoreErrorCause> causes)
    {
        ValidateLabels(selector.MatchLabels, $"{path}.matchLabels", causes);
        for (var i = 0; i < (selector.MatchExpressions?.Count ?? 0); i++)
        {
            var e = selector.MatchExpressions![i];
            var at = $"{path}.matchExpressions[{i}]";
            var values = e.Values?.Count ?? 0;
            switch (e.OperatorProperty)
            {
                case "In" or "NotIn" when values == 0:
                    causes.Add(FieldErrors.Required($"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'"));
                    break;
                case "Exists" or "DoesNotExist" when values > 0:
                    causes.Add(FieldErrors.Forbidden($"{at}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                    break;
                case "In" or "NotIn" or "Exists" or "DoesNotExist":
                    break;
                default:
                    causes.Add(FieldErrors.NotSupported($"{at}.operator", e.OperatorProperty, Operators));
                    break;
            }
            foreach (var message in CheckKey(e.Key ?? "")) causes.Add(FieldErrors.Invalid($"{at}.key", e.Key, message));
        }
    }
}
