using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Rbac;

/// <summary>The rbac.authorization.k8s.io group: roles and their bindings, stored and validated as the API server
/// does. Authorizing requests by them is the authorizer's part, not the registry's.</summary>
internal static class RbacResources
{
    public const string Group = "rbac.authorization.k8s.io";

    public static readonly ResourceDescription Roles = new()
    {
        Group = Group, Version = "v1", Resource = "roles", Kind = "Role", Namespaced = true,
        ObjectType = typeof(V1Role), Strategy = new RoleStrategy(), Printer = CreatedAtTablePrinter.Instance,
        ProtobufMessage = "k8s.io.api.rbac.v1.Role",
    };

    public static readonly ResourceDescription ClusterRoles = new()
    {
        Group = Group, Version = "v1", Resource = "clusterroles", Kind = "ClusterRole", Namespaced = false,
        ObjectType = typeof(V1ClusterRole), Strategy = new ClusterRoleStrategy(), Printer = CreatedAtTablePrinter.Instance,
        ProtobufMessage = "k8s.io.api.rbac.v1.ClusterRole",
    };

    public static readonly ResourceDescription RoleBindings = new()
    {
        Group = Group, Version = "v1", Resource = "rolebindings", Kind = "RoleBinding", Namespaced = true,
        ObjectType = typeof(V1RoleBinding), Strategy = new RoleBindingStrategy(), Printer = new RoleBindingTablePrinter(),
        ProtobufMessage = "k8s.io.api.rbac.v1.RoleBinding",
    };

    public static readonly ResourceDescription ClusterRoleBindings = new()
    {
        Group = Group, Version = "v1", Resource = "clusterrolebindings", Kind = "ClusterRoleBinding", Namespaced = false,
        ObjectType = typeof(V1ClusterRoleBinding), Strategy = new ClusterRoleBindingStrategy(),
        Printer = new ClusterRoleBindingTablePrinter(), ProtobufMessage = "k8s.io.api.rbac.v1.ClusterRoleBinding",
    };

    public static IReadOnlyList<ResourceDescription> All => [ClusterRoleBindings, ClusterRoles, RoleBindings, Roles];
}
