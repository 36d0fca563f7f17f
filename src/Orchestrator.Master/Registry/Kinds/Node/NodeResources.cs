using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Node;

/// <summary>The node.k8s.io group: RuntimeClasses, stored and validated as the API server does.</summary>
internal static class NodeResources
{
    public static readonly ResourceDescription RuntimeClasses = new()
    {
        Group = "node.k8s.io", Version = "v1", Resource = "runtimeclasses", Kind = "RuntimeClass", Namespaced = false,
        ObjectType = typeof(V1RuntimeClass), Strategy = new RuntimeClassStrategy(), Printer = new RuntimeClassTablePrinter(),
        ProtobufMessage = "k8s.io.api.node.v1.RuntimeClass",
    };

    public static IReadOnlyList<ResourceDescription> All => [RuntimeClasses];
}

/// <summary>node/v1 RuntimeClass (ValidateRuntimeClass): the handler is a DNS-1123 label and may not change; overhead
/// quantities are not negative; scheduling's node selector is a label set.</summary>
internal sealed class RuntimeClassStrategy : ModelStrategy<V1RuntimeClass>
{
    protected override void Validate(V1RuntimeClass rc, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        foreach (var message in Names.Check(rc.Handler ?? "", Names.Rule.Dns1123Label))
            causes.Add(FieldErrors.Invalid("handler", rc.Handler ?? "", message));
        foreach (var (name, quantity) in rc.Overhead?.PodFixed ?? new Dictionary<string, ResourceQuantity>())
            if (quantity.ToDecimal() < 0)
                causes.Add(FieldErrors.Invalid($"overhead.podFixed[{name}]", Quantities.Text(quantity), "must be greater than or equal to 0"));
        if (rc.Scheduling?.NodeSelector is { } selector) LabelRules.ValidateLabels(selector, "scheduling.nodeSelector", causes);
    }

    protected override void ValidateUpdate(V1RuntimeClass rc, V1RuntimeClass old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        Validate(rc, context, causes);
        if (rc.Handler != old.Handler) causes.Add(FieldErrors.Invalid("handler", rc.Handler ?? "", "field is immutable"));
    }
}

/// <summary>NAME HANDLER AGE.</summary>
internal sealed class RuntimeClassTablePrinter : TablePrinter<V1RuntimeClass>
{
    public override IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        TableColumnDefinition.NameColumn,
        TableColumnDefinition.Text("Handler", ""),
        TableColumnDefinition.AgeColumn,
    ];

    protected override IReadOnlyList<object> Cells(V1RuntimeClass rc, DateTime now) => [rc.Metadata.Name, rc.Handler ?? "", Age(rc, now)];
}
