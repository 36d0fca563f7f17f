using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Rbac;

/// <summary>
/// kube-controller-manager's clusterrole-aggregation controller: the rules of a ClusterRole with an aggregationRule are
/// the rules of every other ClusterRole its selectors match, in name order, each rule once. Any ClusterRole change
/// reconciles every aggregated role; a role whose rules differ is updated.
/// </summary>
internal sealed class ClusterRoleAggregationController : ControllerActor
{
    private const string ClusterRoles = "clusterroles";

    public ClusterRoleAggregationController(IActorRef store, TimeSpan resync) : base(store, [ClusterRoles], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new ClusterRoleAggregationController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() =>
        Cache.List<V1ClusterRole>(ClusterRoles).Where(r => r.AggregationRule is not null)
            .Select(r => new ResourceKey(ClusterRoles, null, r.Metadata.Name));

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        foreach (var key in AllKeys()) Enqueue(key);
    }

    protected override void Reconcile(ResourceKey key)
    {
        var role = Cache.Get<V1ClusterRole>(ClusterRoles, null, key.Name);
        if (role?.AggregationRule is not { } rule) return;
        var rules = Aggregate(role, rule, Cache.List<V1ClusterRole>(ClusterRoles));
        if (SameRules(rules, role.Rules)) return;
        var updated = KubernetesJson.Deserialize<V1ClusterRole>(KubernetesJson.Serialize(role));
        updated.Rules = rules;
        Send(new UpdateObject(ClusterRoles, updated), key);
    }

    /// <summary>The rules of the roles any selector matches (never the role itself), by name, without repeats.</summary>
    public static List<V1PolicyRule> Aggregate(V1ClusterRole role, V1AggregationRule rule, IEnumerable<V1ClusterRole> all)
    {
        var selectors = (rule.ClusterRoleSelectors ?? []).Select(LabelSelector.FromLabelSelector).ToList();
        var rules = new List<V1PolicyRule>();
        foreach (var other in all.Where(r => r.Metadata.Name != role.Metadata.Name)
                     .OrderBy(r => r.Metadata.Name, StringComparer.Ordinal))
        {
            if (!selectors.Any(s => s.Matches(other.Metadata.Labels))) continue;
            foreach (var candidate in other.Rules ?? [])
                if (!rules.Any(r => SameRule(r, candidate)))
                    rules.Add(candidate);
        }
        return rules;
    }

    private static bool SameRules(IList<V1PolicyRule> a, IList<V1PolicyRule>? b) =>
        a.Count == (b?.Count ?? 0) && a.Zip(b ?? []).All(p => SameRule(p.Item1, p.Item2));

    private static bool SameRule(V1PolicyRule a, V1PolicyRule b) =>
        Same(a.Verbs, b.Verbs) && Same(a.ApiGroups, b.ApiGroups) && Same(a.Resources, b.Resources) &&
        Same(a.ResourceNames, b.ResourceNames) && Same(a.NonResourceURLs, b.NonResourceURLs);

    private static bool Same(IList<string>? a, IList<string>? b) => (a ?? []).SequenceEqual(b ?? []);
}
