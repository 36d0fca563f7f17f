using System.Text;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>
/// Events, stored as core/v1 and served as core/v1 and events.k8s.io/v1, validated as Kubernetes 1.32's
/// ValidateEventCreate/ValidateEventUpdate: every write passes the legacy rules (an event's namespace agrees with its
/// object's; an event with an eventTime names its reporting controller and instance, action and reason, within their
/// lengths); a write through events.k8s.io/v1 (<see cref="IAdmissionContext.RequestApiVersion"/>) is held to the strict
/// rules too (a DNS subdomain name, eventTime required, type Normal or Warning, the deprecated fields unset, a valid
/// series; on update the event's content immutable). Field paths are the stored (core) names, as Kubernetes reports them.
/// </summary>
internal sealed class EventStrategy : ModelStrategy<Corev1Event>
{
    private const int ReportingInstanceLengthLimit = 128;
    private const int ActionLengthLimit = 128;
    private const int ReasonLengthLimit = 128;
    private const int NoteLengthLimit = 1024;

    /// <summary>Core events' names only have to be path segments (kube-apiserver's generic metadata check); the strict
    /// API asks for a DNS subdomain itself.</summary>
    public override Names.Rule NameRule => Names.Rule.PathSegment;

    protected override void Validate(Corev1Event obj, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        ValidateLegacy(obj, causes);
        if (!IsStrict(context)) return;
        var name = obj.Metadata.Name ?? "";
        foreach (var message in Names.Check(name, Names.Rule.Dns1123Subdomain))
            causes.Add(FieldErrors.Invalid("metadata.name", name, message));
        ValidateSeries(obj, causes);
        if (IsZero(obj.EventTime)) causes.Add(FieldErrors.Required("eventTime"));
        if (obj.Type is not ("Normal" or "Warning"))
            causes.Add(FieldErrors.Invalid("type", "", $"has invalid value: {obj.Type}"));
        if (!IsZero(obj.FirstTimestamp)) causes.Add(FieldErrors.Invalid("firstTimestamp", "", "needs to be unset"));
        if (!IsZero(obj.LastTimestamp)) causes.Add(FieldErrors.Invalid("lastTimestamp", "", "needs to be unset"));
        if ((obj.Count ?? 0) != 0) causes.Add(FieldErrors.Invalid("count", "", "needs to be unset"));
        if (!string.IsNullOrEmpty(obj.Source?.Component) || !string.IsNullOrEmpty(obj.Source?.Host))
            causes.Add(FieldErrors.Invalid("source", "", "needs to be unset"));
    }

    protected override void ValidateUpdate(Corev1Event obj, Corev1Event old, IAdmissionContext context, List<StoreErrorCause> causes)
    {
        ValidateLegacy(obj, causes);
        if (!IsStrict(context)) return;
        if (!KubeObjects.SameJson(obj.Series, old.Series)) ValidateSeries(obj, causes);
        Immutable("involvedObject", obj.InvolvedObject, old.InvolvedObject, causes);
        Immutable("reason", obj.Reason, old.Reason, causes);
        Immutable("message", obj.Message, old.Message, causes);
        Immutable("source", obj.Source, old.Source, causes);
        Immutable("firstTimestamp", obj.FirstTimestamp, old.FirstTimestamp, causes);
        Immutable("lastTimestamp", obj.LastTimestamp, old.LastTimestamp, causes);
        Immutable("count", obj.Count ?? 0, old.Count ?? 0, causes);
        Immutable("type", obj.Type, old.Type, causes);
        Immutable("eventTime", obj.EventTime, old.EventTime, causes);
        Immutable("action", obj.Action, old.Action, causes);
        Immutable("related", obj.Related, old.Related, causes);
        Immutable("reportingController", obj.ReportingComponent, old.ReportingComponent, causes);
        Immutable("reportingInstance", obj.ReportingInstance, old.ReportingInstance, causes);
    }

    /// <summary>Kubernetes' strict rules apply to every version but core/v1 (and events.k8s.io/v1beta1, not served):
    /// here, events.k8s.io/v1.</summary>
    private static bool IsStrict(IAdmissionContext context) => context.RequestApiVersion is not null;

    private static void ValidateLegacy(Corev1Event e, List<StoreErrorCause> causes)
    {
        var ns = e.Metadata.NamespaceProperty ?? "";
        var involvedNs = e.InvolvedObject?.NamespaceProperty ?? "";
        if (IsZero(e.EventTime))
        {
            // Old events: the event's namespace is its object's ("" or "default" for a cluster-scoped object).
            var matches = involvedNs.Length == 0 ? ns is "" or "default" : ns == involvedNs;
            if (!matches) causes.Add(FieldErrors.Invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
            return;
        }
        if (involvedNs.Length == 0 && ns is not ("default" or "kube-system"))
            causes.Add(FieldErrors.Invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
        var controller = e.ReportingComponent ?? "";
        if (controller.Length == 0) causes.Add(FieldErrors.Required("reportingController"));
        foreach (var message in LabelRules.CheckKey(controller))
            causes.Add(FieldErrors.Invalid("reportingController", controller, message));
        RequiredWithin("reportingInstance", e.ReportingInstance, ReportingInstanceLengthLimit, causes);
        RequiredWithin("action", e.Action, ActionLengthLimit, causes);
        RequiredWithin("reason", e.Reason, ReasonLengthLimit, causes);
        if (Encoding.UTF8.GetByteCount(e.Message ?? "") > NoteLengthLimit)
            causes.Add(FieldErrors.Invalid("message", "", $"can have at most {NoteLengthLimit} characters"));
    }

    private static void RequiredWithin(string field, string? value, int limit, List<StoreErrorCause> causes)
    {
        if (string.IsNullOrEmpty(value)) causes.Add(FieldErrors.Required(field));
        // Go's len: bytes of the UTF-8 text.
        else if (Encoding.UTF8.GetByteCount(value) > limit)
            causes.Add(FieldErrors.Invalid(field, "", $"can have at most {limit} characters"));
    }

    private static void ValidateSeries(Corev1Event e, List<StoreErrorCause> causes)
    {
        if (e.Series is not { } series) return;
        if ((series.Count ?? 0) < 2) causes.Add(FieldErrors.Invalid("series.count", "", "should be at least 2"));
        if (IsZero(series.LastObservedTime)) causes.Add(FieldErrors.Required("series.lastObservedTime"));
    }

    private static void Immutable<TValue>(string field, TValue value, TValue old, List<StoreErrorCause> causes)
    {
        if (KubeObjects.SameJson(value, old)) return;
        // Go prints a struct's whole value; a scalar is shown as it is.
        object? shown = value is null or string or int or DateTime ? value : new RawValue($"{typeof(TValue).Name}{{...}}");
        causes.Add(FieldErrors.Invalid(field, shown, "field is immutable"));
    }

    /// <summary>Go's zero time: unset, or the year-one instant a client may send for it.</summary>
    private static bool IsZero(DateTime? time) => time is null || time.Value == DateTime.MinValue;
}
