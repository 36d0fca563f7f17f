using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>core/v1 Node, as the API server's strategy: nodes have no generation, and their taints are validated as
/// kube's validateNodeTaints (a label-name key, a label value, one of the three effects, each key and effect once) —
/// the taint eviction controller and the scheduler act on them, so a misspelt effect must not be stored and ignored.</summary>
internal sealed class NodeStrategy : ModelStrategy<V1Node>
{
    private static readonly string[] TaintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

    protected override void Validate(V1Node node, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        var taints = node.Spec?.Taints ?? [];
        var seen = new HashSet<(string?, string?)>();
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i] ?? new V1Taint();
            var at = $"spec.taints[{i}]";
            foreach (var message in LabelRules.CheckKey(taint.Key ?? ""))
                causes.Add(FieldErrors.Invalid($"{at}.key", taint.Key ?? "", message));
            var valueProblems = LabelRules.CheckValue(taint.Value ?? "").ToList();
            if (valueProblems.Count > 0) causes.Add(FieldErrors.Invalid($"{at}.value", taint.Value ?? "", string.Join(";", valueProblems)));
            if (string.IsNullOrEmpty(taint.Effect)) causes.Add(FieldErrors.Required($"{at}.effect"));
            else if (!TaintEffects.Contains(taint.Effect)) causes.Add(FieldErrors.NotSupported($"{at}.effect", taint.Effect, TaintEffects));
            if (!seen.Add((taint.Key, taint.Effect)))
            {
                var duplicate = FieldErrors.Duplicate(at, new RawValue(
                    $"core.Taint{{Key:{FieldErrors.Format(taint.Key ?? "")}, Value:{FieldErrors.Format(taint.Value ?? "")}, " +
                    $"Effect:{FieldErrors.Format(taint.Effect ?? "")}, TimeAdded:{(taint.TimeAdded is null ? "(*v1.Time)(nil)" : "(*v1.Time)(…)")}}}"));
                causes.Add(duplicate with { Message = duplicate.Message + ": taints must be unique by key and effect pair" });
            }
        }
    }
}
