using k8s.Models;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// One consistent view of the cluster's roles and bindings, immutable (the cache swaps a new one in on every change).
/// Evaluates requests as kube's RBAC authorizer does: the ClusterRoleBindings, then the RoleBindings of the request's
/// namespace, each binding whose subjects include the user contributing the rules of its role.
/// </summary>
internal sealed class RbacPolicy
{
    public static readonly RbacPolicy Empty = new([], [], [], []);

    private readonly IReadOnlyDictionary<string, V1ClusterRole> _clusterRoles;
    private readonly IReadOnlyDictionary<(string Namespace, string Name), V1Role> _roles;
    private readonly IReadOnlyList<V1ClusterRoleBinding> _clusterRoleBindings;
    private readonly ILookup<string, V1RoleBinding> _roleBindings;

    public RbacPolicy(IEnumerable<V1ClusterRole> clusterRoles, IEnumerable<V1Role> roles,
        IEnumerable<V1ClusterRoleBinding> clusterRoleBindings, IEnumerable<V1RoleBinding> roleBindings)
    {
        _clusterRoles = clusterRoles.ToDictionary(r => r.Metadata.Name);
        _roles = roles.ToDictionary(r => (r.Metadata.NamespaceProperty ?? "", r.Metadata.Name));
        _clusterRoleBindings = clusterRoleBindings.OrderBy(b => b.Metadata.Name, StringComparer.Ordinal).ToList();
        _roleBindings = roleBindings.OrderBy(b => b.Metadata.Name, StringComparer.Ordinal)
            .ToLookup(b => b.Metadata.NamespaceProperty ?? "");
    }

    /// <summary>Whether some rule the user holds allows the request; the reason lists roles that could not be found.</summary>
    public (bool Allowed, string Reason) Authorize(AuthorizationAttributes request)
    {
        var errors = new List<string>();
        foreach (var (rule, source) in VisitRules(request.User, request.Namespace, errors))
            if (RbacRules.Allows(request, rule))
                return (true, "RBAC: allowed by " + source());
        return (false, errors.Count == 0 ? "" : "RBAC: " + Aggregate(errors));
    }

    /// <summary>Every rule the user holds in the namespace ("" for cluster-wide rules only), and the resolution errors
    /// (rule resolver's RulesFor).</summary>
    public (IReadOnlyList<V1PolicyRule> Rules, IReadOnlyList<string> Errors) RulesFor(UserInfo user, string @namespace)
    {
        var errors = new List<string>();
        var rules = VisitRules(user, @namespace, errors).Select(r => r.Rule).ToList();
        return (rules, errors);
    }

    /// <summary>The rules a roleRef points to, from a binding in <paramref name="bindingNamespace"/>.</summary>
    public IReadOnlyList<V1PolicyRule>? RoleReferenceRules(V1RoleRef roleRef, string bindingNamespace, out string? error)
    {
        error = null;
        switch (roleRef.Kind)
        {
            case "ClusterRole":
                if (_clusterRoles.TryGetValue(roleRef.Name, out var clusterRole)) return (IReadOnlyList<V1PolicyRule>?)clusterRole.Rules ?? [];
                error = $"clusterrole.rbac.authorization.k8s.io \"{roleRef.Name}\" not found";
                return null;
            case "Role":
                if (_roles.TryGetValue((bindingNamespace, roleRef.Name), out var role)) return (IReadOnlyList<V1PolicyRule>?)role.Rules ?? [];
                error = $"role.rbac.authorization.k8s.io \"{roleRef.Name}\" not found";
                return null;
            default:
                error = $"unsupported role reference kind: \"{roleRef.Kind}\"";
                return null;
        }
    }

    /// <summary>The user's rules, each with what granted it ("ClusterRoleBinding \"x\" of ClusterRole \"y\" to Group \"z\"").</summary>
    private IEnumerable<(V1PolicyRule Rule, Func<string> Source)> VisitRules(UserInfo user, string @namespace, List<string> errors)
    {
        foreach (var binding in _clusterRoleBindings)
        {
            if (SubjectOf(user, binding.Subjects, "") is not { } subject) continue;
            var rules = RoleReferenceRules(binding.RoleRef, "", out var error);
            if (rules is null) { errors.Add(error!); continue; }
            string Source() => $"ClusterRoleBinding \"{binding.Metadata.Name}\" of {binding.RoleRef.Kind} \"{binding.RoleRef.Name}\" to {Describe(subject, "")}";
            foreach (var rule in rules) yield return (rule, Source);
        }
        if (@namespace.Length == 0) yield break;
        foreach (var binding in _roleBindings[@namespace])
        {
            if (SubjectOf(user, binding.Subjects, @namespace) is not { } subject) continue;
            var rules = RoleReferenceRules(binding.RoleRef, @namespace, out var error);
            if (rules is null) { errors.Add(error!); continue; }
            string Source() => $"RoleBinding \"{binding.Metadata.Name}/{@namespace}\" of {binding.RoleRef.Kind} \"{binding.RoleRef.Name}\" to {Describe(subject, @namespace)}";
            foreach (var rule in rules) yield return (rule, Source);
        }
    }

    private static string Describe(Rbacv1Subject subject, string bindingNamespace) => subject.Kind == "ServiceAccount"
        ? $"{subject.Kind} \"{subject.Name}/{(string.IsNullOrEmpty(subject.NamespaceProperty) ? bindingNamespace : subject.NamespaceProperty)}\""
        : $"{subject.Kind} \"{subject.Name}\"";

    /// <summary>The first subject that is the user (a User by name, a Group the user is in, a ServiceAccount by its user
    /// name; a ServiceAccount without namespace is the binding's namespace's), or null.</summary>
    public static Rbacv1Subject? SubjectOf(UserInfo user, IEnumerable<Rbacv1Subject>? subjects, string @namespace) =>
        subjects?.FirstOrDefault(s => AppliesTo(user, s, @namespace));

    private static bool AppliesTo(UserInfo user, Rbacv1Subject subject, string @namespace)
    {
        switch (subject.Kind)
        {
            case "User":
                return user.Name == subject.Name;
            case "Group":
                return user.Groups.Contains(subject.Name);
            case "ServiceAccount":
                var saNamespace = string.IsNullOrEmpty(subject.NamespaceProperty) ? @namespace : subject.NamespaceProperty;
                if (saNamespace.Length == 0) return false;
                return user.Name == UserInfo.ServiceAccountPrefix + saNamespace + ":" + subject.Name;
            default:
                return false;
        }
    }

    /// <summary>utilerrors.NewAggregate's message: one error alone, several as "[a, b]".</summary>
    private static string Aggregate(IReadOnlyList<string> errors) =>
        errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";
}
