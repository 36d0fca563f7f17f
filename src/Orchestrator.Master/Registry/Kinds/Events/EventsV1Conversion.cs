using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Events;

/// <summary>
/// events.k8s.io/v1 Event ⇄ the stored core/v1 Event, as Kubernetes' events/v1 conversion: both groups are one
/// storage, so an event a controller records through either API is listed, watched and described through both
/// (<c>kubectl describe</c> and <c>kubectl get events</c> read core/v1). Field for field: regarding ⇄ involvedObject,
/// note ⇄ message, deprecatedSource ⇄ source, deprecatedFirstTimestamp/deprecatedLastTimestamp/deprecatedCount ⇄
/// firstTimestamp/lastTimestamp/count, reportingController ⇄ reportingComponent; the rest have the same names.
/// </summary>
internal sealed class EventsV1Conversion : IVersionConverter
{
    public static EventsV1Conversion Instance { get; } = new();

    public IKubernetesObject<V1ObjectMeta> ToStorage(IKubernetesObject<V1ObjectMeta> served) => ToCore((Eventsv1Event)served);

    public IKubernetesObject<V1ObjectMeta> FromStorage(IKubernetesObject<V1ObjectMeta> stored) => ToV1((Corev1Event)stored);

    public static Corev1Event ToCore(Eventsv1Event served)
    {
        var e = (Eventsv1Event)KubeObjects.CloneObject(served); // the result shares nothing with what it was made from
        return new Corev1Event
        {
            ApiVersion = "v1", Kind = "Event", Metadata = e.Metadata,
            Action = e.Action, EventTime = e.EventTime, InvolvedObject = e.Regarding, Message = e.Note, Reason = e.Reason,
            Related = e.Related, ReportingComponent = e.ReportingController, ReportingInstance = e.ReportingInstance,
            Series = e.Series is { } s ? new Corev1EventSeries { Count = s.Count, LastObservedTime = s.LastObservedTime } : null,
            Source = e.DeprecatedSource, Type = e.Type, FirstTimestamp = e.DeprecatedFirstTimestamp,
            LastTimestamp = e.DeprecatedLastTimestamp, Count = e.DeprecatedCount,
        };
    }

    public static Eventsv1Event ToV1(Corev1Event stored)
    {
        var e = (Corev1Event)KubeObjects.CloneObject(stored);
        return new Eventsv1Event
        {
            ApiVersion = "events.k8s.io/v1", Kind = "Event", Metadata = e.Metadata,
            Action = e.Action, EventTime = e.EventTime, Regarding = e.InvolvedObject, Note = e.Message, Reason = e.Reason,
            Related = e.Related, ReportingController = e.ReportingComponent, ReportingInstance = e.ReportingInstance,
            Series = e.Series is { } s ? new Eventsv1EventSeries { Count = s.Count ?? 0, LastObservedTime = s.LastObservedTime ?? default } : null,
            DeprecatedSource = e.Source, Type = e.Type, DeprecatedFirstTimestamp = e.FirstTimestamp,
            DeprecatedLastTimestamp = e.LastTimestamp, DeprecatedCount = e.Count,
        };
    }
}
