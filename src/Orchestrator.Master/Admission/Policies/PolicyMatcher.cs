using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Admission.Policies;

/// <summary>Whether a policy's matchConstraints or a binding's matchResources select a request, as kube's
/// admission/plugin/policy/matching Matcher: namespaceSelector (cluster-scoped requests always pass, a Namespace is judged
/// by its own labels), objectSelector (the new or the old object's labels), excludeResourceRules, then resourceRules with
/// operations, apiGroups, apiVersions, resources (with subresources and wildcards), scope and resourceNames. Each resource
/// is served here in one version, so matchPolicy Equivalent and Exact select the same requests.</summary>
internal static class PolicyMatcher
{
    /// <summary>Whether the request matches; an error (the request's namespace cannot be read) is the message.</summary>
    public static (bool Matches, string? Error) Matches(V1MatchResources? match, PolicyRequest request, IAdmissionContext context)
    {
        if (match is null) return (true, null);
        string? namespaceError = null;
        if (!MatchesNamespace(match.NamespaceSelector, request, context, out namespaceError) && namespaceError is null) return (false, null);
        if (!MatchesObject(match.ObjectSelector, request)) return (false, null);
        if (MatchesRules(match.ExcludeResourceRules, request)) return (false, null);
        if (match.ResourceRules is { Count: > 0 } rules && !MatchesRules(rules, request)) return (false, null);
        return namespaceError is null ? (true, null) : (false, namespaceError);
    }

    private static bool MatchesNamespace(V1LabelSelector? selector, PolicyRequest request, IAdmissionContext context, out string? error)
    {
        error = null;
        // unset (a binding's matchResources defaulted without one): everything, as the defaulted {}
        if (selector is null || LabelSelector.FromLabelSelector(selector) is not { IsEmpty: false } parsed) return true;
        IDictionary<string, string>? labels;
        if (request.Resource.Group.Length == 0 && request.Resource.Resource == "namespaces")
            labels = (request.Object ?? request.OldObject)?.Metadata?.Labels;
        else if (string.IsNullOrEmpty(request.Namespace)) return true;
        else if (request.NamespaceObject is { } ns) labels = ns.Metadata?.Labels;
        else
        {
            error = $"namespace \"{request.Namespace}\" not found";
            return false;
        }
        return parsed.Matches(labels);
    }

    private static bool MatchesObject(V1LabelSelector? selector, PolicyRequest request)
    {
        if (selector is null || LabelSelector.FromLabelSelector(selector) is not { IsEmpty: false } parsed) return true;
        return (request.Object is { } o && parsed.Matches(o.Metadata?.Labels ?? new Dictionary<string, string>())) ||
               (request.OldObject is { } old && parsed.Matches(old.Metadata?.Labels ?? new Dictionary<string, string>()));
    }

    private static bool MatchesRules(IList<V1NamedRuleWithOperations>? rules, PolicyRequest request)
    {
        foreach (var rule in rules ?? [])
        {
            if (!MatchesRule(rule, request)) continue;
            if (rule.ResourceNames is not { Count: > 0 } names || names.Contains(request.Name)) return true;
        }
        return false;
    }

    private static bool MatchesRule(V1NamedRuleWithOperations rule, PolicyRequest request) =>
        MatchesRule(rule.Scope, rule.Operations, rule.ApiGroups, rule.ApiVersions, rule.Resources, request.Resource.Namespaced,
            request.Operation, request.Resource.Group, request.Version, request.Resource.Resource, request.Subresource);

    /// <summary>kube's rules.Matcher for one rule (of a policy or a webhook): scope (a Namespace is cluster-scoped),
    /// operations, apiGroups, apiVersions, resources.</summary>
    internal static bool MatchesRule(string? scope, IList<string>? operations, IList<string>? apiGroups, IList<string>? apiVersions,
        IList<string>? resources, bool namespaced, string operation, string group, string version, string resource, string? subresource)
    {
        scope ??= "*";
        if ((scope == "Cluster" && namespaced) || (scope == "Namespaced" && !namespaced)) return false;
        if (!(operations ?? []).Any(op => op == "*" || op == operation)) return false;
        if (!(apiGroups ?? []).Any(g => g == "*" || g == group)) return false;
        if (!(apiVersions ?? []).Any(v => v == "*" || v == version)) return false;
        return (resources ?? []).Any(r => MatchesResource(r, resource, subresource));
    }

    /// <summary>kube's rules.Matcher.resource: "*" all resources without subresource, "*/*" everything, "pods/*" a
    /// resource and its subresources, "*/status" a subresource of any resource, "pods/status" exactly.</summary>
    private static bool MatchesResource(string pattern, string resource, string? subresource)
    {
        var slash = pattern.IndexOf('/');
        if (slash < 0) return string.IsNullOrEmpty(subresource) && (pattern == "*" || pattern == resource);
        var (res, sub) = (pattern[..slash], pattern[(slash + 1)..]);
        if (res != "*" && res != resource) return false;
        if (sub == "*") return true;
        return !string.IsNullOrEmpty(subresource) && sub == subresource;
    }
}

/// <summary>One request as the policies see it: the operation (CREATE, UPDATE, DELETE), the resource and version, the
/// object (null on delete) and the stored one (null on create), the namespace's object when the request has a
/// namespace and it exists.</summary>
internal sealed record PolicyRequest(IStoredResource Resource, string Version, string Operation, string? Subresource, string Name,
    string? Namespace, IKubernetesObject<V1ObjectMeta>? Object, IKubernetesObject<V1ObjectMeta>? OldObject,
    V1Namespace? NamespaceObject, AdmissionUser? User, bool DryRun);
