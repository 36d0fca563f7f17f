using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Webhooks;

/// <summary>
/// Whether a webhook is called for a request, as kube's generic webhook ShouldCallHook: namespaceSelector (a cluster-scoped
/// request always passes, a Namespace is judged by its own labels, new or old), objectSelector (the new or the old
/// object's labels), then the rules (operations, apiGroups, apiVersions, resources with subresources and wildcards, scope),
/// then matchConditions (false: not called; an error: 403 under failurePolicy Fail, not called under Ignore). Each
/// resource is served here in one version, so matchPolicy Equivalent and Exact select the same requests.
/// </summary>
internal static class WebhookMatcher
{
    /// <summary>True when the webhook is called; throws the refusal a failing match condition makes under Fail.</summary>
    public static bool Matches(V1ValidatingWebhook webhook, WebhookRequest request)
    {
        if (!MatchesNamespace(webhook.NamespaceSelector, request)) return false;
        if (!MatchesObject(webhook.ObjectSelector, request)) return false;
        if (!(webhook.Rules ?? []).Any(rule => MatchesRule(rule, request))) return false;
        if (webhook.MatchConditions is not { Count: > 0 } conditions) return true;
        var (matches, error) = PolicyEvaluator.MatchConditions(conditions, request.Policy);
        if (error is null) return matches;
        if (webhook.FailurePolicy == "Ignore") return false;
        var resource = StoreQualified(request);
        var subject = request.Name.Length == 0 ? resource : $"{resource} \"{request.Name}\"";
        throw new ApiException(403, "Forbidden", $"{subject} is forbidden: {error}",
            new V1StatusDetails { Name = request.Name, Group = request.Resource.Group, Kind = request.Resource.Resource });
    }

    private static string StoreQualified(WebhookRequest request) =>
        request.Resource.Group.Length == 0 ? request.Resource.Resource : $"{request.Resource.Resource}.{request.Resource.Group}";

    /// <summary>kube's namespace.Matcher: a request of a namespace is judged by that Namespace's labels (its new object,
    /// else its old one); one without a namespace (cluster-scoped) always matches; else the namespace's labels.</summary>
    public static bool MatchesNamespace(V1LabelSelector? selector, WebhookRequest request)
    {
        if (selector is null || LabelSelector.FromLabelSelector(selector) is not { IsEmpty: false } parsed) return true;
        IDictionary<string, string>? labels;
        if (request.Resource.Group.Length == 0 && request.Resource.Resource == "namespaces" && string.IsNullOrEmpty(request.Subresource))
            labels = (request.Object ?? request.OldObject)?.Metadata?.Labels;
        else if (string.IsNullOrEmpty(request.Namespace)) return true;
        else labels = request.NamespaceLabels;
        return parsed.Matches(labels ?? new Dictionary<string, string>());
    }

    /// <summary>kube's object.Matcher: the new object's labels or the old object's.</summary>
    public static bool MatchesObject(V1LabelSelector? selector, WebhookRequest request)
    {
        if (selector is null || LabelSelector.FromLabelSelector(selector) is not { IsEmpty: false } parsed) return true;
        return Labelled(request.Object) || Labelled(request.OldObject);

        bool Labelled(IKubernetesObject<V1ObjectMeta>? obj) => obj is not null && parsed.Matches(obj.Metadata?.Labels ?? new Dictionary<string, string>());
    }

    /// <summary>kube's rules.Matcher.</summary>
    public static bool MatchesRule(V1RuleWithOperations rule, WebhookRequest request) =>
        PolicyMatcher.MatchesRule(rule.Scope, rule.Operations, rule.ApiGroups, rule.ApiVersions, rule.Resources,
            request.Resource.Namespaced && !(request.Resource.Group.Length == 0 && request.Resource.Resource == "namespaces"),
            request.Operation, request.Resource.Group, request.Resource.Version, request.Resource.Resource, request.Subresource);
}
