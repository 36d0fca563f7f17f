using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Registry.Kinds.Rbac;

/// <summary>rbac/v1 RoleBinding: roleRef to a Role or ClusterRole of this group (immutable once set), subjects
/// defaulted and validated as Kubernetes does.</summary>
internal sealed class RoleBindingStrategy : ModelStrategy<V1RoleBinding>
{
    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override void Default(V1RoleBinding binding) => Bindings.Default(binding.RoleRef, binding.Subjects);

    protected override void Validate(V1RoleBinding binding, IAdmissionContext context, List<StoreErrorCause> causes) =>
        Bindings.Validate(binding.RoleRef, binding.Subjects, namespaced: true, causes);

    protected override void ValidateUpdate(V1RoleBinding binding, V1RoleBinding old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(binding, context, causes);
        Bindings.ValidateRoleRefUnchanged(binding.RoleRef, old.RoleRef, causes);
    }
}

/// <summary>rbac/v1 ClusterRoleBinding: as a RoleBinding, but only to a ClusterRole, and ServiceAccount subjects
/// must name their namespace.</summary>
internal sealed class ClusterRoleBindingStrategy : ModelStrategy<V1ClusterRoleBinding>
{
    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override void Default(V1ClusterRoleBinding binding) => Bindings.Default(binding.RoleRef, binding.Subjects);

    protected override void Validate(V1ClusterRoleBinding binding, IAdmissionContext context, List<StoreErrorCause> causes) =>
        Bindings.Validate(binding.RoleRef, binding.Subjects, namespaced: false, causes);

    protected override void ValidateUpdate(V1ClusterRoleBinding binding, V1ClusterRoleBinding old, IAdmissionContext context,
        List<StoreErrorCause> causes)
    {
        Validate(binding, context, causes);
        Bindings.ValidateRoleRefUnchanged(binding.RoleRef, old.RoleRef, causes);
    }
}

/// <summary>Kubernetes' SetDefaults_Subject/SetDefaults_RoleBinding and ValidateRoleBinding/ValidateRoleBindingSubject.</summary>
internal static class Bindings
{
    private static readonly string[] SubjectKinds = ["ServiceAccount", "User", "Group"];

    public static void Default(V1RoleRef? roleRef, IList<Rbacv1Subject>? subjects)
    {
        if (roleRef is not null && string.IsNullOrEmpty(roleRef.ApiGroup)) roleRef.ApiGroup = RbacResources.Group;
        foreach (var subject in subjects ?? [])
            if (string.IsNullOrEmpty(subject.ApiGroup) && subject.Kind is "User" or "Group")
                subject.ApiGroup = RbacResources.Group;
    }

    public static void Validate(V1RoleRef? roleRef, IList<Rbacv1Subject>? subjects, bool namespaced, List<StoreErrorCause> causes)
    {
        var apiGroup = roleRef?.ApiGroup ?? "";
        if (apiGroup != RbacResources.Group)
            causes.Add(FieldErrors.NotSupported("roleRef.apiGroup", apiGroup, [RbacResources.Group]));
        string[] kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
        var kind = roleRef?.Kind ?? "";
        if (!kinds.Contains(kind)) causes.Add(FieldErrors.NotSupported("roleRef.kind", kind, kinds));
        if (string.IsNullOrEmpty(roleRef?.Name)) causes.Add(FieldErrors.Required("roleRef.name"));
        else
            foreach (var message in Names.Check(roleRef.Name, Names.Rule.PathSegment))
                causes.Add(FieldErrors.Invalid("roleRef.name", roleRef.Name, message));

        for (var i = 0; i < (subjects?.Count ?? 0); i++) ValidateSubject(subjects![i], namespaced, $"subjects[{i}]", causes);
    }

    public static void ValidateRoleRefUnchanged(V1RoleRef? roleRef, V1RoleRef? old, List<StoreErrorCause> causes)
    {
        if ((roleRef?.ApiGroup, roleRef?.Kind, roleRef?.Name) != (old?.ApiGroup, old?.Kind, old?.Name))
            causes.Add(FieldErrors.Invalid("roleRef", new RawValue(
                $"rbac.RoleRef{{APIGroup:{FieldErrors.Format(roleRef?.ApiGroup ?? "")}, Kind:{FieldErrors.Format(roleRef?.Kind ?? "")}, " +
                $"Name:{FieldErrors.Format(roleRef?.Name ?? "")}}}"), "cannot change roleRef"));
    }

    private static void ValidateSubject(Rbacv1Subject subject, bool namespaced, string at, List<StoreErrorCause> causes)
    {
        var name = subject.Name ?? "";
        var apiGroup = subject.ApiGroup ?? "";
        if (name.Length == 0) causes.Add(FieldErrors.Required($"{at}.name"));
        switch (subject.Kind)
        {
            case "ServiceAccount":
                if (name.Length > 0)
                    foreach (var message in Names.Check(name, Names.Rule.Dns1123Subdomain))
                        causes.Add(FieldErrors.Invalid($"{at}.name", name, message));
                if (apiGroup.Length > 0) causes.Add(FieldErrors.NotSupported($"{at}.apiGroup", apiGroup, [""]));
                if (!namespaced && string.IsNullOrEmpty(subject.NamespaceProperty)) causes.Add(FieldErrors.Required($"{at}.namespace"));
                break;
            case "User" or "Group":
                if (apiGroup != RbacResources.Group)
                    causes.Add(FieldErrors.NotSupported($"{at}.apiGroup", apiGroup, [RbacResources.Group]));
                break;
            default:
                causes.Add(FieldErrors.NotSupported($"{at}.kind", subject.Kind ?? "", SubjectKinds));
                break;
        }
    }
}
