using k8s.Models;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>How RBAC matches a request against a PolicyRule (rbac/v1 helpers' RuleAllows and its matchers) and how the
/// registry decides that one set of rules covers another (escalation prevention: Covers, BreakdownRule, CompactString).</summary>
internal static class RbacRules
{
    private const string All = "*";

    public static bool Allows(AuthorizationAttributes request, V1PolicyRule rule)
    {
        if (request.IsResourceRequest)
            return VerbMatches(rule, request.Verb) && ApiGroupMatches(rule, request.ApiGroup) &&
                   ResourceMatches(rule, request.CombinedResource, request.Subresource) &&
                   ResourceNameMatches(rule, request.Name);
        return VerbMatches(rule, request.Verb) && NonResourceUrlMatches(rule, request.Path);
    }

    public static bool VerbMatches(V1PolicyRule rule, string verb) =>
        Of(rule.Verbs).Any(v => v == All || v == verb);

    public static bool ApiGroupMatches(V1PolicyRule rule, string group) =>
        Of(rule.ApiGroups).Any(g => g == All || g == group);

    public static bool ResourceMatches(V1PolicyRule rule, string combinedResource, string subresource)
    {
        foreach (var resource in Of(rule.Resources))
        {
            if (resource == All || resource == combinedResource) return true;
            if (subresource.Length == 0) continue;
            // "*/subresource" matches that subresource of every resource
            if (resource.Length == subresource.Length + 2 && resource.StartsWith("*/", StringComparison.Ordinal) &&
                resource.EndsWith(subresource, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public static bool ResourceNameMatches(V1PolicyRule rule, string name) =>
        Of(rule.ResourceNames).Count == 0 || Of(rule.ResourceNames).Contains(name);

    public static bool NonResourceUrlMatches(V1PolicyRule rule, string path)
    {
        foreach (var url in Of(rule.NonResourceURLs))
        {
            if (url == All || url == path) return true;
            if (url.EndsWith('*') && path.StartsWith(url.TrimEnd('*'), StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="owner"/> covers every rule of <paramref name="requested"/>, and the broken-down
    /// rules it does not (rbac validation's Covers).</summary>
    public static (bool Covered, IReadOnlyList<V1PolicyRule> Missing) Covers(IReadOnlyList<V1PolicyRule> owner,
        IEnumerable<V1PolicyRule> requested)
    {
        var missing = new List<V1PolicyRule>();
        foreach (var rule in requested)
        foreach (var sub in Breakdown(rule))
            if (!owner.Any(o => RuleCovers(o, sub)))
                missing.Add(sub);
        return (missing.Count == 0, missing);
    }

    /// <summary>One rule per group × resource × verb (× name), and per non-resource URL × verb.</summary>
    public static IEnumerable<V1PolicyRule> Breakdown(V1PolicyRule rule)
    {
        foreach (var group in Of(rule.ApiGroups))
        foreach (var resource in Of(rule.Resources))
        foreach (var verb in Of(rule.Verbs))
        {
            if (Of(rule.ResourceNames).Count > 0)
                foreach (var name in Of(rule.ResourceNames))
                    yield return new V1PolicyRule { ApiGroups = [group], Resources = [resource], Verbs = [verb], ResourceNames = [name] };
            else
                yield return new V1PolicyRule { ApiGroups = [group], Resources = [resource], Verbs = [verb] };
        }
        foreach (var url in Of(rule.NonResourceURLs))
        foreach (var verb in Of(rule.Verbs))
            yield return new V1PolicyRule { NonResourceURLs = [url], Verbs = [verb] };
    }

    private static bool RuleCovers(V1PolicyRule owner, V1PolicyRule sub)
    {
        var verbs = Of(owner.Verbs).Contains(All) || HasAll(owner.Verbs, sub.Verbs);
        var groups = Of(owner.ApiGroups).Contains(All) || HasAll(owner.ApiGroups, sub.ApiGroups);
        var resources = ResourcesCoverAll(Of(owner.Resources), Of(sub.Resources));
        var urls = Of(sub.NonResourceURLs).All(path => Of(owner.NonResourceURLs).Any(o => NonResourceUrlCovers(o, path)));
        var names = Of(sub.ResourceNames).Count == 0
            ? Of(owner.ResourceNames).Count == 0
            : Of(owner.ResourceNames).Count == 0 || HasAll(owner.ResourceNames, sub.ResourceNames);
        return verbs && groups && resources && names && urls;
    }

    private static bool ResourcesCoverAll(IList<string> set, IList<string> covers)
    {
        if (set.Contains(All) || covers.All(set.Contains)) return true;
        foreach (var path in covers)
        {
            if (set.Contains(path)) continue;
            var slash = path.IndexOf('/');
            if (slash < 0) return false;
            if (!set.Contains("*/" + path[(slash + 1)..])) return false;
        }
        return true;
    }

    private static bool NonResourceUrlCovers(string owner, string path) =>
        owner == path || (owner.EndsWith('*') && path.StartsWith(owner.TrimEnd('*'), StringComparison.Ordinal));

    private static bool HasAll(IList<string>? set, IList<string>? contains) => Of(contains).All(Of(set).Contains);

    /// <summary>Merges simple resource rules (one group, one resource, no names) that differ only in verbs, as rbac
    /// validation's CompactRules does for the escalation message.</summary>
    public static IReadOnlyList<V1PolicyRule> Compact(IEnumerable<V1PolicyRule> rules)
    {
        var compacted = new List<V1PolicyRule>();
        var simple = new Dictionary<(string, string), V1PolicyRule>();
        foreach (var rule in rules)
        {
            if (Of(rule.ApiGroups).Count == 1 && Of(rule.Resources).Count == 1 && Of(rule.ResourceNames).Count == 0 &&
                Of(rule.NonResourceURLs).Count == 0)
            {
                var key = (rule.ApiGroups[0], rule.Resources[0]);
                if (simple.TryGetValue(key, out var existing))
                {
                    foreach (var verb in Of(rule.Verbs))
                        if (!existing.Verbs.Contains(verb)) existing.Verbs.Add(verb);
                }
                else
                {
                    var copy = new V1PolicyRule { ApiGroups = [key.Item1], Resources = [key.Item2], Verbs = Of(rule.Verbs).ToList() };
                    simple[key] = copy;
                    compacted.Add(copy);
                }
            }
            else compacted.Add(rule);
        }
        return compacted;
    }

    /// <summary>rbac/v1 helpers' CompactString: {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}.</summary>
    public static string CompactString(V1PolicyRule rule)
    {
        var parts = new List<string>();
        if (Of(rule.ApiGroups).Count > 0) parts.Add("APIGroups:" + Security.UserInfo.Quote(rule.ApiGroups));
        if (Of(rule.Resources).Count > 0) parts.Add("Resources:" + Security.UserInfo.Quote(rule.Resources));
        if (Of(rule.NonResourceURLs).Count > 0) parts.Add("NonResourceURLs:" + Security.UserInfo.Quote(rule.NonResourceURLs));
        if (Of(rule.ResourceNames).Count > 0) parts.Add("ResourceNames:" + Security.UserInfo.Quote(rule.ResourceNames));
        if (Of(rule.Verbs).Count > 0) parts.Add("Verbs:" + Security.UserInfo.Quote(rule.Verbs));
        return "{" + string.Join(", ", parts) + "}";
    }

    private static IList<string> Of(IList<string>? values) => values ?? Array.Empty<string>();
}
