using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Rest;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// RBAC's escalation prevention (pkg/registry/rbac: policybased storage and escalation_check.go), on every create and
/// update of roles and bindings: a Role or ClusterRole may hold only rules its author holds, unless the author is in
/// system:masters or may "escalate" it; an aggregationRule needs full authority; a binding may point only to a role
/// whose rules its author holds, unless the author may "bind" that role. Refusals are 403 with kube's message.
/// </summary>
internal sealed class EscalationCheck(RbacAuthorizer authorizer) : IWriteAdmission
{
    private const string Group = "rbac.authorization.k8s.io";

    private static readonly IReadOnlyList<V1PolicyRule> FullAuthority =
    [
        new() { Verbs = ["*"], ApiGroups = ["*"], Resources = ["*"] },
        new() { Verbs = ["*"], NonResourceURLs = ["*"] },
    ];

    public void Admit(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old)
    {
        if (resource.Group != Group || RequestUser.Get(context) is not { } user || user.IsMaster) return;
        var ns = obj.Metadata.NamespaceProperty ?? "";
        var name = obj.Metadata.Name ?? "";
        switch (obj)
        {
            case V1Role role:
                if (EscalateAllowed(context, user)) return;
                ConfirmNoEscalation(user, ns, role.Rules ?? [], resource.Resource, name);
                break;
            case V1ClusterRole clusterRole:
                if (EscalateAllowed(context, user)) return;
                if (clusterRole.AggregationRule is not null &&
                    !RbacRules.Covers(authorizer.Policy.RulesFor(user, "").Rules, FullAuthority).Covered)
                    throw RbacAuthorizer.Forbidden(Group, resource.Resource, name,
                        "must have cluster-admin privileges to use the aggregationRule");
                ConfirmNoEscalation(user, "", clusterRole.Rules ?? [], resource.Resource, name);
                break;
            case V1RoleBinding binding:
                CheckBinding(user, binding.RoleRef, ns, resource.Resource, name);
                break;
            case V1ClusterRoleBinding binding:
                CheckBinding(user, binding.RoleRef, "", resource.Resource, name);
                break;
        }
    }

    /// <summary>RoleEscalationAuthorized: the request's own attributes with the verb "escalate".</summary>
    private bool EscalateAllowed(HttpContext context, UserInfo user)
    {
        var request = AuthorizationAttributes.Of(user, context.Request.Method, context.Request.Path.Value ?? "", context.Request.Query);
        return authorizer.Allows(request with { Verb = "escalate", ApiVersion = "*", Subresource = "" });
    }

    private void CheckBinding(UserInfo user, V1RoleRef roleRef, string bindingNamespace, string resource, string name)
    {
        var roleResource = roleRef.Kind switch { "ClusterRole" => "clusterroles", "Role" => "roles", _ => null };
        if (roleResource is not null && authorizer.Allows(new AuthorizationAttributes(user, "bind", true,
                ApiGroup: roleRef.ApiGroup ?? "", Resource: roleResource, Namespace: bindingNamespace, Name: roleRef.Name ?? "")))
            return;
        var rules = authorizer.Policy.RoleReferenceRules(roleRef, bindingNamespace, out var error)
                    ?? throw RbacAuthorizer.Forbidden(Group, resource, name, error!);
        ConfirmNoEscalation(user, bindingNamespace, rules, resource, name);
    }

    /// <summary>ConfirmNoEscalation: the author's rules in the namespace must cover every requested rule.</summary>
    private void ConfirmNoEscalation(UserInfo user, string @namespace, IEnumerable<V1PolicyRule> requested, string resource, string name)
    {
        var (owner, errors) = authorizer.Policy.RulesFor(user, @namespace);
        var (covered, missing) = RbacRules.Covers(owner, requested);
        if (covered) return;
        var descriptions = RbacRules.Compact(missing).Select(RbacRules.CompactString).Distinct()
            .OrderBy(d => d, StringComparer.Ordinal);
        var message = $"user \"{user.Name}\" (groups={UserInfo.Quote(user.Groups)}) is attempting to grant RBAC permissions not currently held:\n" +
                      string.Join("\n", descriptions);
        if (errors.Count > 0) message += $"; resolution errors: [{string.Join(" ", errors)}]";
        throw RbacAuthorizer.Forbidden(Group, resource, name, message);
    }
}
