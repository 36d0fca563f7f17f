using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Rbac;

/// <summary>NAME ROLE AGE; wide: USERS GROUPS SERVICEACCOUNTS.</summary>
internal sealed class RoleBindingTablePrinter : TablePrinter<V1RoleBinding>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } = BindingColumns.For("roleBinding");

    protected override IReadOnlyList<object> Cells(V1RoleBinding b, DateTime now) =>
        BindingColumns.Cells(b.Metadata.Name, b.RoleRef, b.Subjects, Age(b, now));
}

/// <summary>NAME ROLE AGE; wide: USERS GROUPS SERVICEACCOUNTS.</summary>
internal sealed class ClusterRoleBindingTablePrinter : TablePrinter<V1ClusterRoleBinding>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } = BindingColumns.For("clusterRoleBinding");

    protected override IReadOnlyList<object> Cells(V1ClusterRoleBinding b, DateTime now) =>
        BindingColumns.Cells(b.Metadata.Name, b.RoleRef, b.Subjects, Age(b, now));
}

internal static class BindingColumns
{
    public static IReadOnlyList<TableColumnDefinition> For(string kindWord) =>
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Role", "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Users", $"Users in the {kindWord}", 1),
        TableColumnDefinition.Text("Groups", $"Groups in the {kindWord}", 1),
        TableColumnDefinition.Text("ServiceAccounts", $"ServiceAccounts in the {kindWord}", 1),
    ];

    /// <summary>ROLE is kind/name; service accounts print as namespace/name (rbac.SubjectsStrings).</summary>
    public static IReadOnlyList<object> Cells(string name, V1RoleRef? roleRef, IList<Rbacv1Subject>? subjects, string age)
    {
        var all = subjects ?? [];
        return
        [
            name, $"{roleRef?.Kind}/{roleRef?.Name}", age,
            string.Join(", ", all.Where(s => s.Kind == "User").Select(s => s.Name)),
            string.Join(", ", all.Where(s => s.Kind == "Group").Select(s => s.Name)),
            string.Join(", ", all.Where(s => s.Kind == "ServiceAccount").Select(s => $"{s.NamespaceProperty}/{s.Name}")),
        ];
    }
}
