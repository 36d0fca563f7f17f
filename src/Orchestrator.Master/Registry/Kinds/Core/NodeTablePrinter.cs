using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>NAME STATUS ROLES AGE VERSION; wide: INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME.</summary>
internal sealed class NodeTablePrinter : TablePrinter<V1Node>
{
    private const string RoleLabelPrefix = "node-role.kubernetes.io/";

    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Status", "The status of the node"),
        TableColumnDefinition.Text("Roles", "The roles of the node"),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Version", "Kubelet Version reported by the node."),
        TableColumnDefinition.Text("Internal-IP", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
        TableColumnDefinition.Text("External-IP", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
        TableColumnDefinition.Text("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
        TableColumnDefinition.Text("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
        TableColumnDefinition.Text("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1Node node, DateTime now)
    {
        var info = node.Status?.NodeInfo;
        return
        [
            node.Metadata.Name, Status(node), Roles(node), Age(node, now), OrNone(info?.KubeletVersion),
            Address(node, "InternalIP"), Address(node, "ExternalIP"),
            Unknown(info?.OsImage), Unknown(info?.KernelVersion), Unknown(info?.ContainerRuntimeVersion),
        ];
    }

    public static string Status(V1Node node)
    {
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var status = ready is null ? "Unknown" : ready.Status == "True" ? "Ready" : "NotReady";
        return node.Spec?.Unschedulable == true ? status + ",SchedulingDisabled" : status;
    }

    public static string Roles(V1Node node)
    {
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in node.Metadata.Labels ?? new Dictionary<string, string>())
        {
            if (key.StartsWith(RoleLabelPrefix, StringComparison.Ordinal) && key.Length > RoleLabelPrefix.Length)
                roles.Add(key[RoleLabelPrefix.Length..]);
            else if (key == "kubernetes.io/role" && value.Length > 0)
                roles.Add(value);
        }
        return roles.Count == 0 ? None : string.Join(",", roles);
    }

    private static string Address(V1Node node, string type) =>
        OrNone(node.Status?.Addresses?.FirstOrDefault(a => a.Type == type)?.Address);

    private static string Unknown(string? value) => string.IsNullOrEmpty(value) ? "<unknown>" : value;
}
