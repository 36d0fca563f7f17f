using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Networking;

/// <summary>NAME CLASS HOSTS ADDRESS PORTS AGE: at most three hosts ("*" when none), the load balancer's addresses,
/// "80" or "80, 443" with TLS.</summary>
internal sealed class IngressTablePrinter : TablePrinter<V1Ingress>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Class", "The name of the IngressClass resource that should be used for additional configuration"),
        TableColumnDefinition.Text("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
        TableColumnDefinition.Text("Address", "Address is a list containing ingress points for the load-balancer"),
        TableColumnDefinition.Text("Ports", "Ports of TLS configurations that open"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1Ingress ingress, DateTime now)
    {
        var rules = ingress.Spec?.Rules ?? [];
        var hosts = new List<string>();
        var more = false;
        foreach (var rule in rules)
        {
            if (hosts.Count == 3) more = true;
            if (!more && !string.IsNullOrEmpty(rule.Host)) hosts.Add(rule.Host);
        }
        var hostText = hosts.Count == 0 ? "*" : more ? $"{string.Join(",", hosts)} + {rules.Count - 3} more..." : string.Join(",", hosts);
        var addresses = (ingress.Status?.LoadBalancer?.Ingress ?? [])
            .Select(i => !string.IsNullOrEmpty(i.Ip) ? i.Ip : i.Hostname).Where(a => !string.IsNullOrEmpty(a))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var address = string.Join(",", addresses);
        if (address.Length > 16) address = address[..13] + "...";
        return
        [
            ingress.Metadata.Name, ingress.Spec?.IngressClassName ?? None, hostText, address,
            ingress.Spec?.Tls is { Count: > 0 } ? "80, 443" : "80", Age(ingress, now),
        ];
    }
}

/// <summary>NAME CONTROLLER PARAMETERS AGE; parameters read Kind.group/name.</summary>
internal sealed class IngressClassTablePrinter : TablePrinter<V1IngressClass>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Controller", "Controller that is responsible for handling this class"),
        TableColumnDefinition.Text("Parameters", "A reference to a resource with additional parameters"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1IngressClass ingressClass, DateTime now)
    {
        var parameters = ingressClass.Spec?.Parameters is { } p
            ? p.Kind + (p.ApiGroup is null ? "" : "." + p.ApiGroup) + "/" + p.Name
            : None;
        return [ingressClass.Metadata.Name, ingressClass.Spec?.Controller ?? "", parameters, Age(ingressClass, now)];
    }
}

/// <summary>NAME POD-SELECTOR AGE.</summary>
internal sealed class NetworkPolicyTablePrinter : TablePrinter<V1NetworkPolicy>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Pod-Selector", "Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1NetworkPolicy policy, DateTime now) =>
        [policy.Metadata.Name, FormatSelector(policy.Spec?.PodSelector), Age(policy, now)];
}
