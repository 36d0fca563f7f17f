using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>kube-apiserver's authorizer chain as --authorization-mode configured it (Node,RBAC by default):
/// system:masters is allowed everything (the privileged group authorizer), then each mode in order as kube's union
/// authorizer runs them: the first that allows decides; no opinion goes on to the next (none of these modes denies).
/// No opinion at the end is a denial, with every authorizer's reason joined by newlines. Every check of the master
/// (the request, the access reviews, impersonation, RBAC's escalate and bind, the signer checks) goes through here;
/// <see cref="Policy"/> is RBAC's rule resolver, which kube's escalation check uses whatever the modes.</summary>
internal sealed class RbacAuthorizer(RbacCache cache, NodeAuthorizer? nodes = null,
    AuthorizationSettings? settings = null)
{
    private readonly IReadOnlyList<AuthorizationMode> _modes = (settings ?? AuthorizationSettings.Default).Modes;

    public RbacPolicy Policy => cache.Policy;

    public (bool Allowed, string Reason) Authorize(AuthorizationAttributes request)
    {
        if (request.User.IsMaster) return (true, "");
        List<string>? reasons = null;
        foreach (var mode in _modes)
        {
            var (allowed, reason) = mode switch
            {
                AuthorizationMode.Node => nodes?.Authorize(request) ?? (false, ""),
                AuthorizationMode.RBAC => cache.Policy.Authorize(request),
                AuthorizationMode.AlwaysAllow => (true, ""),
                _ => (false, "Everything is forbidden."), // AlwaysDeny: no opinion, with this reason
            };
            if (allowed) return (true, reason);
            if (reason.Length > 0) (reasons ??= []).Add(reason);
        }
        return (false, reasons is null ? "" : string.Join("\n", reasons));
    }

    /// <summary>kube's union RulesFor (SelfSubjectRulesReview): every mode's rules in order. The Node authorizer cannot
    /// enumerate a node's rules (incomplete, with its error); AlwaysAllow holds everything; AlwaysDeny
    /// nothing.</summary>
    public (IReadOnlyList<k8s.Models.V1PolicyRule> Rules, IReadOnlyList<string> Errors, bool Incomplete) RulesFor(
        UserInfo user, string @namespace)
    {
        var rules = new List<k8s.Models.V1PolicyRule>();
        var errors = new List<string>();
        var incomplete = false;
        foreach (var mode in _modes)
        {
            switch (mode)
            {
                case AuthorizationMode.Node when NodeIdentity.Of(user).IsNode:
                    incomplete = true;
                    errors.Add("node authorizer does not support user rule resolution");
                    break;
                case AuthorizationMode.RBAC:
                    var (held, rbacErrors) = cache.Policy.RulesFor(user, @namespace);
                    rules.AddRange(held);
                    errors.AddRange(rbacErrors);
                    break;
                case AuthorizationMode.AlwaysAllow:
                    rules.Add(new() { Verbs = ["*"], ApiGroups = ["*"], Resources = ["*"] });
                    rules.Add(new() { Verbs = ["*"], NonResourceURLs = ["*"] });
                    break;
            }
        }
        return (rules, errors, incomplete);
    }

    public bool Allows(AuthorizationAttributes request) => Authorize(request).Allowed;

    /// <summary>k8s.io/apiserver's responsewriters.Forbidden: the request's resource (or path) in kube's words,
    /// as a 403 Status naming the resource's group, resource and name.</summary>
    public static ApiException Forbidden(AuthorizationAttributes a, string reason)
    {
        var message = ForbiddenMessage(a);
        if (reason.Length > 0) message += ": " + reason;
        return Forbidden(a.ApiGroup, a.IsResourceRequest ? a.Resource : "", a.Name, message);
    }

    /// <summary>apierrors.NewForbidden: "{resource}.{group} \"{name}\" is forbidden: {message}".</summary>
    public static ApiException Forbidden(string group, string resource, string name, string message)
    {
        var qualified = group.Length == 0 ? resource : resource + "." + group;
        var text = (qualified.Length, name.Length) switch
        {
            (0, _) => "forbidden: " + message,
            (_, 0) => $"{qualified} is forbidden: {message}",
            _ => $"{qualified} \"{name}\" is forbidden: {message}",
        };
        return new ApiException(403, "Forbidden", text,
            new k8s.Models.V1StatusDetails { Group = group, Kind = resource, Name = name });
    }

    public static string ForbiddenMessage(AuthorizationAttributes a)
    {
        var user = a.User.Name;
        if (!a.IsResourceRequest) return $"User \"{user}\" cannot {a.Verb} path \"{a.Path}\"";
        var resource = a.CombinedResource;
        return a.Namespace.Length > 0
            ? $"User \"{user}\" cannot {a.Verb} resource \"{resource}\" in API group \"{a.ApiGroup}\" in the namespace \"{a.Namespace}\""
            : $"User \"{user}\" cannot {a.Verb} resource \"{resource}\" in API group \"{a.ApiGroup}\" at the cluster scope";
    }
}
