using k8s.Models;
using Orchestrator.Master.Registry.Tables;

namespace Orchestrator.Master.Registry.Kinds.Discovery;

/// <summary>NAME ADDRESSTYPE PORTS ENDPOINTS AGE.</summary>
internal sealed class EndpointSliceTablePrinter : TablePrinter<V1EndpointSlice>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("AddressType", "The IP protocol for this slice"),
        TableColumnDefinition.Text("Ports", "Ports of this slice"),
        TableColumnDefinition.Text("Endpoints", "Endpoints of this slice"),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1EndpointSlice slice, DateTime now)
    {
        var ports = slice.Ports is { Count: > 0 } p ? string.Join(",", p.Select(x => x.Port?.ToString() ?? "<unset>")) : "<unset>";
        var addresses = (slice.Endpoints ?? []).SelectMany(e => e.Addresses ?? []).ToList();
        var shown = string.Join(",", addresses.Take(3));
        var endpoints = addresses.Count == 0 ? "<unset>" : addresses.Count > 3 ? $"{shown} + {addresses.Count - 3} more..." : shown;
        return [slice.Metadata.Name, slice.AddressType ?? "", ports, endpoints, Age(slice, now)];
    }
}
