using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE; wide: SELECTOR. PORT(S) reads <c>80:30080/TCP</c>.</summary>
internal sealed class ServiceTablePrinter : TablePrinter<V1Service>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Type", "type determines how the Service is exposed."),
        TableColumnDefinition.Text("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
        TableColumnDefinition.Text("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
        TableColumnDefinition.Text("Port(s)", "The list of ports that are exposed by this service."),
        TableColumnDefinition.AgeColumn,
        TableColumnDefinition.Text("Selector", "Route service traffic to pods with label keys and values matching this selector.", 1),
    ];

    protected override IReadOnlyList<object> Cells(V1Service svc, DateTime now) =>
    [
        svc.Metadata.Name, svc.Spec?.Type ?? "ClusterIP", OrNone(svc.Spec?.ClusterIP), ExternalIp(svc), Ports(svc),
        Age(svc, now), FormatLabels(svc.Spec?.Selector),
    ];

    public static string Ports(V1Service svc)
    {
        var ports = svc.Spec?.Ports;
        if (ports is null || ports.Count == 0) return None;
        return string.Join(",", ports.Select(p =>
        {
            var protocol = p.Protocol ?? "TCP";
            return p.NodePort is > 0 ? $"{p.Port}:{p.NodePort}/{protocol}" : $"{p.Port}/{protocol}";
        }));
    }

    public static string ExternalIp(V1Service svc)
    {
        var external = svc.Spec?.ExternalIPs ?? [];
        switch (svc.Spec?.Type)
        {
            case "ExternalName":
                return svc.Spec.ExternalName ?? None;
            case "LoadBalancer":
                var ingress = svc.Status?.LoadBalancer?.Ingress?.Select(i => string.IsNullOrEmpty(i.Ip) ? i.Hostname : i.Ip)
                    .Where(a => !string.IsNullOrEmpty(a)).ToList() ?? [];
                var all = ingress.Concat(external).ToList();
                return all.Count > 0 ? string.Join(",", all) : "<pending>";
            default:
                return external.Count > 0 ? string.Join(",", external) : None;
        }
    }
}

/// <summary>NAME ENDPOINTS AGE, ENDPOINTS like <c>172.18.0.2:80,172.18.0.3:80 + 1 more...</c>.</summary>
internal sealed class EndpointsTablePrinter : TablePrinter<V1Endpoints>
{
    private const int MaxShown = 3;

    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Endpoints", "Endpoints is the list of endpoints in this subset."),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1Endpoints ep, DateTime now) =>
        [ep.Metadata.Name, Format(ep), Age(ep, now)];

    public static string Format(V1Endpoints ep)
    {
        var all = new List<string>();
        foreach (var subset in ep.Subsets ?? [])
        {
            var addresses = subset.Addresses ?? [];
            var ports = subset.Ports is { Count: > 0 } p ? p.Select(x => (int?)x.Port).ToList() : [null];
            foreach (var port in ports)
            foreach (var address in addresses)
                all.Add(port is null ? address.Ip : $"{address.Ip}:{port}");
        }
        if (all.Count == 0) return None;
        var shown = string.Join(",", all.Take(MaxShown));
        return all.Count > MaxShown ? $"{shown} + {all.Count - MaxShown} more..." : shown;
    }
}
