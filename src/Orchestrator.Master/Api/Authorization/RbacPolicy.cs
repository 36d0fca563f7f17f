using System.Collections.Concurrent;
using k8s.Models;
using Orchestrator.Master.Api.Security;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// One consistent view of the cluster's roles and bindings, immutable (the cache swaps a new one in on every change).
/// Evaluates requests as kube's RBAC authorizer does: the ClusterRoleBindings, then the RoleBindings of the request's
/// namespace, each binding whose subjects include the user contributing the rules of its role. The rules a user holds
/// in a namespace are worked out once per policy and kept with it (<see cref="HeldRules"/>): a change to any role or
/// binding publishes a new policy, so nothing kept outlives the roles and bindings it came from.
/// </summary>
internal sealed class RbacPolicy
{
    public static readonly RbacPolicy Empty = new([], [], [], []);

    private readonly IReadOnlyDictionary<string, V1ClusterRole> _clusterRoles;
    private readonly IReadOnlyDictionary<(string Namespace, string Name), V1Role> _roles;
    private readonly IReadOnlyList<V1ClusterRoleBinding> _clusterRoleBindings;
    private readonly ILookup<string, V1RoleBinding> _roleBindings;

    /// <summary>At most this many (user, groups, namespace) kept per policy; past it, rules are worked out per request.
    /// A bound, not an eviction: a policy lives until the next RBAC change.</summary>
    internal const int MaxHeld = 4096;

    private readonly ConcurrentDictionary<Holder, HeldRules> _held = new();

    /// <summary>The rules a user holds in a namespace, in the order kube's rule resolver visits them (each with what
    /// granted it), and the resolution errors of the whole visit.</summary>
    private sealed record HeldRules(IReadOnlyList<(V1PolicyRule Rule, string Allowed)> Rules, IReadOnlyList<string> Errors);

    /// <summary>Whom rules are held for: all that <see cref="AppliesTo"/> reads of a user (its name and groups), and the
    /// namespace. Groups compare in order (a different order is another entry with the same rules).</summary>
    private sealed class Holder : IEquatable<Holder>
    {
        private readonly string _name;
        private readonly IReadOnlyList<string> _groups;
        private readonly string _namespace;
        private readonly int _hash;

        public Holder(UserInfo user, string @namespace) : this(user.Name, user.Groups, @namespace)
        {
        }

        private Holder(string name, IReadOnlyList<string> groups, string @namespace)
        {
            (_name, _groups, _namespace) = (name, groups, @namespace);
            var hash = new HashCode();
            hash.Add(_name, StringComparer.Ordinal);
            hash.Add(_namespace, StringComparer.Ordinal);
            for (var i = 0; i < _groups.Count; i++) hash.Add(_groups[i], StringComparer.Ordinal);
            _hash = hash.ToHashCode();
        }

        public bool Equals(Holder? other)
        {
            if (other is null || other._hash != _hash || other._name != _name || other._namespace != _namespace ||
                other._groups.Count != _groups.Count) return false;
            for (var i = 0; i < _groups.Count; i++)
                if (other._groups[i] != _groups[i]) return false;
            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as Holder);

        public override int GetHashCode() => _hash;

        /// <summary>This holder with a copy of the groups, to be kept: the user's list is the caller's.</summary>
        public Holder Kept() => new(_name, _groups.ToArray(), _namespace);
    }

    /// <summary>How many (user, groups, namespace) this policy holds rules for (tests).</summary>
    internal int HeldCount => _held.Count;

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
        // the first rule in the visit's order that allows it, as kube's visitor stops at it; the errors of the whole
        // visit when none does (a visit that stops early has found a rule and reports no errors)
        var held = Held(request.User, request.Namespace);
        foreach (var (rule, allowed) in held.Rules)
            if (RbacRules.Allows(request, rule))
                return (true, allowed);
        return (false, held.Errors.Count == 0 ? "" : "RBAC: " + Aggregate(held.Errors));
    }

    private HeldRules Held(UserInfo user, string @namespace)
    {
        var holder = new Holder(user, @namespace);
        if (_held.TryGetValue(holder, out var held)) return held;
        var errors = new List<string>();
        var reasons = new Dictionary<Func<string>, string>(ReferenceEqualityComparer.Instance);
        var rules = new List<(V1PolicyRule, string)>();
        foreach (var (rule, source) in VisitRules(user, @namespace, errors))
        {
            // one reason per binding (its rules share the source), worked out once
            if (!reasons.TryGetValue(source, out var reason)) reasons[source] = reason = "RBAC: allowed by " + source();
            rules.Add((rule, reason));
        }
        held = new HeldRules(rules, errors);
        if (_held.Count < MaxHeld) _held.TryAdd(holder.Kept(), held);
        return held;
    }

    /// <summary>Every rule the user holds in the namespace ("" for cluster-wide rules only), and the resolution errors
    /// (rule resolver's RulesFor).</summary>
    public (IReadOnlyList<V1PolicyRule> Rules, IReadOnlyList<string> Errors) RulesFor(UserInfo user, string @namespace)
    {
        var held = Held(user, @namespace);
        return (held.Rules.Select(r => r.Rule).ToList(), held.Errors);
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
