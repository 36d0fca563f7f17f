using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Rbac;

/// <summary>rbac/v1 Role: names are path segments (RBAC's minimal rule); each rule needs verbs and either resources
/// with API groups or (never in a namespaced role) non-resource URLs.</summary>
internal sealed class RoleStrategy : ModelStrategy<V1Role>
{
    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override void Validate(V1Role role, IAdmissionContext context, List<StoreErrorCause> causes) =>
        PolicyRules.Validate(role.Rules, namespaced: true, causes);
}

/// <summary>rbac/v1 ClusterRole: the rules of <see cref="RoleStrategy"/> (non-resource URLs allowed), and an
/// aggregationRule, when given, needs at least one valid clusterRoleSelector. The aggregationRule is stored as sent;
/// filling the rules of an aggregated role from the roles it selects is a controller's work.</summary>
internal sealed class ClusterRoleStrategy : ModelStrategy<V1ClusterRole>
{
    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override void Validate(V1ClusterRole role, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        PolicyRules.Validate(role.Rules, namespaced: false, causes);
        if (role.AggregationRule is not { } aggregation) return;
        var selectors = aggregation.ClusterRoleSelectors ?? [];
        if (selectors.Count == 0)
            causes.Add(FieldErrors.Required("aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil"));
        for (var i = 0; i < selectors.Count; i++)
            LabelRules.ValidateSelector(selectors[i], $"aggregationRule.clusterRoleSelectors[{i}]", causes);
    }
}

/// <summary>Kubernetes' ValidatePolicyRule.</summary>
internal static class PolicyRules
{
    public static void Validate(IList<V1PolicyRule>? rules, bool namespaced, List<StoreErrorCause> causes)
    {
        for (var i = 0; i < (rules?.Count ?? 0); i++)
        {
            var rule = rules![i];
            var at = $"rules[{i}]";
            if (rule.Verbs is not { Count: > 0 })
                causes.Add(FieldErrors.Required($"{at}.verbs", "verbs must contain at least one value"));
            if (rule.NonResourceURLs is { Count: > 0 } urls)
            {
                if (namespaced)
                    causes.Add(FieldErrors.Invalid($"{at}.nonResourceURLs", FieldErrors.GoStrings(urls),
                        "namespaced rules cannot apply to non-resource URLs"));
                if (rule.ApiGroups is { Count: > 0 } || rule.Resources is { Count: > 0 } || rule.ResourceNames is { Count: > 0 })
                    causes.Add(FieldErrors.Invalid($"{at}.nonResourceURLs", FieldErrors.GoStrings(urls),
                        "rules cannot apply to both regular resources and non-resource URLs"));
                continue;
            }
            if (rule.ApiGroups is not { Count: > 0 })
                causes.Add(FieldErrors.Required($"{at}.apiGroups", "resource rules must supply at least one api group"));
            if (rule.Resources is not { Count: > 0 })
                causes.Add(FieldErrors.Required($"{at}.resources", "resource rules must supply at least one resource"));
        }
    }
}
