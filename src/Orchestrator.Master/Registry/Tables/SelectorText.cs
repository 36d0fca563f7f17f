using k8s.Models;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Tables;

/// <summary>Selectors as text, the way apimachinery prints them (requirements sorted by key).</summary>
internal static class SelectorText
{
    public static string Format(V1LabelSelector? selector)
    {
        if (selector is null) return "";
        var requirements = LabelSelector.FromLabelSelector(selector).Requirements.OrderBy(r => r.Key, StringComparer.Ordinal);
        return string.Join(",", requirements.Select(r => r.Op switch
        {
            LabelSelector.Operator.Equals => $"{r.Key}={r.Values[0]}",
            LabelSelector.Operator.NotEquals => $"{r.Key}!={r.Values[0]}",
            LabelSelector.Operator.In => $"{r.Key} in ({string.Join(",", r.Values.Order(StringComparer.Ordinal))})",
            LabelSelector.Operator.NotIn => $"{r.Key} notin ({string.Join(",", r.Values.Order(StringComparer.Ordinal))})",
            LabelSelector.Operator.Exists => r.Key,
            _ => "!" + r.Key,
        }));
    }

    public static string FormatLabels(IDictionary<string, string>? labels) =>
        labels is null
            ? ""
            : string.Join(",", labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
