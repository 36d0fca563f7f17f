using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;

namespace Orchestrator.Master.Registry.Kinds.Events;

/// <summary>The events.k8s.io group: the core/v1 events in their newer form, one storage with them (as in Kubernetes),
/// converted by <see cref="EventsV1Conversion"/>.</summary>
internal static class EventsResources
{
    public static readonly ResourceDescription Events = new()
    {
        Group = "events.k8s.io", Version = "v1", Resource = "events", Kind = "Event", Namespaced = true,
        StoreName = CoreResources.Events.StoreName, Storage = false, Conversion = EventsV1Conversion.Instance,
        ObjectType = typeof(Eventsv1Event), Strategy = CoreResources.Events.Strategy, Printer = new EventsV1TablePrinter(),
        ShortNames = ["ev"], SelectableFields = Fields,
        SelectableFieldPaths = new Dictionary<string, string> { ["source"] = "deprecatedSource.component" },
        ProtobufMessage = "k8s.io.api.events.v1.Event",
    };

    /// <summary>events.k8s.io/v1's field selectors (its field label conversion: regarding.* and reportingController are
    /// the stored involvedObject.* and reportingComponent; source is the deprecated source's component).</summary>
    private static IReadOnlyList<string> Fields =>
    [
        "reason", "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion",
        "regarding.resourceVersion", "regarding.fieldPath", "reportingController", "source", "type",
    ];

    public static IReadOnlyList<ResourceDescription> All => [Events];
}
