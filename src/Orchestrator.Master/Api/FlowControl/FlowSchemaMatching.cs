using k8s.Models;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.FlowControl;

/// <summary>
/// Whether a request matches a FlowSchema, as k8s.io/apiserver's flowcontrol rule.go decides: some rule whose subjects
/// include the user (by name, group or ServiceAccount, "*" for all) and whose resource rules (verb, API group,
/// resource or "resource/subresource", namespace, or clusterScope for requests without one) or non-resource rules
/// (verb, path, or a path prefix ending "/*") match the request.
/// </summary>
internal static class FlowSchemaMatching
{
    public static bool Matches(V1FlowSchemaSpec spec, AuthorizationAttributes request)
    {
        foreach (var rule in spec.Rules ?? [])
            if (MatchesSubjects(rule.Subjects, request.User) &&
                (request.IsResourceRequest ? MatchesResourceRules(rule.ResourceRules, request) : MatchesNonResourceRules(rule.NonResourceRules, request)))
                return true;
        return false;
    }

    private static bool MatchesSubjects(IList<Flowcontrolv1Subject>? subjects, UserInfo user)
    {
        foreach (var subject in subjects ?? [])
        {
            var matched = subject.Kind switch
            {
                "User" => subject.User is { } u && (u.Name == "*" || u.Name == user.Name),
                "Group" => subject.Group is { } g && (g.Name == "*" || user.Groups.Contains(g.Name)),
                "ServiceAccount" => subject.ServiceAccount is { } sa && MatchesServiceAccount(sa, user.Name),
                _ => false,
            };
            if (matched) return true;
        }
        return false;
    }

    private static bool MatchesServiceAccount(V1ServiceAccountSubject subject, string userName)
    {
        if (!userName.StartsWith(UserInfo.ServiceAccountPrefix, StringComparison.Ordinal)) return false;
        var rest = userName.AsSpan(UserInfo.ServiceAccountPrefix.Length);
        var ns = subject.NamespaceProperty ?? "";
        if (!rest.StartsWith(ns, StringComparison.Ordinal) || rest.Length <= ns.Length || rest[ns.Length] != ':') return false;
        return subject.Name == "*" || rest[(ns.Length + 1)..].SequenceEqual(subject.Name);
    }

    private static bool MatchesResourceRules(IList<V1ResourcePolicyRule>? rules, AuthorizationAttributes request)
    {
        foreach (var rule in rules ?? [])
        {
            if (!Contains(rule.Verbs, request.Verb) || !MatchesResource(rule.Resources, request) || !Contains(rule.ApiGroups, request.ApiGroup))
                continue;
            if (request.Namespace.Length == 0 ? rule.ClusterScope == true : Contains(rule.Namespaces, request.Namespace)) return true;
        }
        return false;
    }

    private static bool MatchesResource(IList<string>? resources, AuthorizationAttributes request)
    {
        foreach (var resource in resources ?? [])
        {
            if (resource == "*") return true;
            if (request.Subresource.Length == 0
                    ? resource == request.Resource
                    : resource.Length == request.Resource.Length + 1 + request.Subresource.Length && resource.StartsWith(request.Resource, StringComparison.Ordinal) &&
                      resource[request.Resource.Length] == '/' && resource.EndsWith(request.Subresource, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    private static bool MatchesNonResourceRules(IList<V1NonResourcePolicyRule>? rules, AuthorizationAttributes request)
    {
        foreach (var rule in rules ?? [])
        {
            if (!Contains(rule.Verbs, request.Verb)) continue;
            foreach (var url in rule.NonResourceURLs ?? [])
            {
                if (url == "*" || url == request.Path) return true;
                // kube's matchPolicyRuleNonResourceURL: "/a/*" and "/a" both cover what lies under "/a/"
                var prefix = url.EndsWith('*') ? url[..^1] : url;
                if (!prefix.EndsWith('/')) prefix += "/";
                if (request.Path.StartsWith(prefix, StringComparison.Ordinal)) return true;
            }
        }
        return false;
    }

    private static bool Contains(IList<string>? values, string value)
    {
        if (values is null) return false;
        foreach (var v in values)
            if (v == "*" || v == value) return true;
        return false;
    }
}
