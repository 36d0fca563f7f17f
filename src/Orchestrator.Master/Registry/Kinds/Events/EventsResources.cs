using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Core;

namespace Orchestrator.Master.Registry.Kinds.Events;

/// <summary>The events.k8s.io group: the same events as core/v1 in their newer form, stored apart.</summary>
internal static class EventsResources
{
    public static readonly ResourceDescription Events = new()
    {
        Group = "events.k8s.io", Version = "v1", Resource = "events", Kind = "Event", Namespaced = true,
        StoreName = "events.events.k8s.io",
        ObjectType = typeof(Eventsv1Event), Strategy = new ModelStrategy<Eventsv1Event>(), Printer = new EventsV1TablePrinter(),
        ShortNames = ["ev"], SelectableFields = CoreResources.EventFields,
    };

    public static IReadOnlyList<ResourceDescription> All => [Events];
}
