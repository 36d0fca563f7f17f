using System.Security.Cryptography;
using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.ControlLoop;

/// <summary>
/// Writes core/v1 Events about objects, the way client-go's event recorder does, so that
/// <c>kubectl describe</c> lists them: name <c>&lt;object&gt;.&lt;16 hex&gt;</c>, involvedObject, reason, message,
/// type, source.component, first/last timestamps and count. A repeat of the same event (same object, reason,
/// message, type) within <see cref="AggregationWindow"/> bumps the count of the event already written instead of
/// adding one. Lives inside one actor (not thread-safe); fire-and-forget: the store's replies go to
/// <c>replyTo</c>, which ignores them. Never reads the store.
/// </summary>
internal sealed class EventRecorder
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";
    public static readonly TimeSpan AggregationWindow = TimeSpan.FromMinutes(10);
    private const int MaxRemembered = 1024;

    private readonly IActorRef _store;
    private readonly string _component;
    private readonly string? _host;
    private readonly Func<DateTime> _clock;
    private readonly Dictionary<(string? Uid, string Reason, string Message, string Type), Corev1Event> _recent = new();

    public EventRecorder(IActorRef store, string component, string? host = null, Func<DateTime>? clock = null)
    {
        _store = store;
        _component = component;
        _host = host;
        _clock = clock ?? (() => DateTime.UtcNow);
    }

    public const string Resource = "events";

    /// <summary>Records an event about <paramref name="involved"/>; the store's reply goes to <paramref name="replyTo"/>.</summary>
    public void Record(IKubernetesObject<V1ObjectMeta> involved, string type, string reason, string message, IActorRef replyTo) =>
        Record(ReferenceTo(involved), type, reason, message, replyTo);

    public void Record(V1ObjectReference involved, string type, string reason, string message, IActorRef replyTo) =>
        _store.Tell(Prepare(involved, type, reason, message), replyTo);

    /// <summary>The store request that records the event (a create, or the update of a repeat), for a writer that sends
    /// it in a batch of its own (<see cref="WriteObjects"/>) instead.</summary>
    public object Prepare(IKubernetesObject<V1ObjectMeta> involved, string type, string reason, string message) =>
        Prepare(ReferenceTo(involved), type, reason, message);

    public object Prepare(V1ObjectReference involved, string type, string reason, string message)
    {
        var now = _clock();
        var key = (involved.Uid, reason, message, type);
        if (_recent.TryGetValue(key, out var previous) && now - (previous.LastTimestamp ?? now) < AggregationWindow)
        {
            var repeat = KubeObjects.Clone(previous);
            repeat.Metadata.ResourceVersion = null; // unconditional: only this recorder updates its events
            repeat.Count = (previous.Count ?? 1) + 1;
            repeat.LastTimestamp = now;
            _recent[key] = repeat;
            return new UpdateObject(Resource, Fresh(repeat)) { HandedOver = true };
        }

        var ev = Build(involved, type, reason, message, now);
        if (_recent.Count >= MaxRemembered) _recent.Clear();
        _recent[key] = ev;
        return new CreateObject(Resource, Fresh(ev)) { HandedOver = true };
    }

    /// <summary>A copy of an event this recorder made (every field <see cref="Build"/> sets, in new objects): the store
    /// is handed the copy (<see cref="UpdateObject.HandedOver"/>) and plans on it in place, while the recorder keeps
    /// its own for the next repeat — cheaper than the store's JSON round trip of each event.</summary>
    internal static Corev1Event Fresh(Corev1Event e)
    {
        var first = AsStored(e.FirstTimestamp);
        // an event's first and last timestamps are mostly the same instant: one JSON round trip for both (by ticks and
        // kind — DateTime's equality ignores the kind)
        var last = e.LastTimestamp is { } l && e.FirstTimestamp is { } f && l.Ticks == f.Ticks && l.Kind == f.Kind
            ? first : AsStored(e.LastTimestamp);
        return Copy(e, first, last);
    }

    private static Corev1Event Copy(Corev1Event e, DateTime? first, DateTime? last) => new()
    {
        ApiVersion = e.ApiVersion,
        Kind = e.Kind,
        Metadata = new V1ObjectMeta
        {
            Name = e.Metadata.Name, NamespaceProperty = e.Metadata.NamespaceProperty, ResourceVersion = e.Metadata.ResourceVersion,
        },
        InvolvedObject = e.InvolvedObject is not { } o ? null : new V1ObjectReference
        {
            ApiVersion = o.ApiVersion, FieldPath = o.FieldPath, Kind = o.Kind, Name = o.Name, NamespaceProperty = o.NamespaceProperty,
            ResourceVersion = o.ResourceVersion, Uid = o.Uid,
        },
        Reason = e.Reason,
        Message = e.Message,
        Type = e.Type,
        Source = e.Source is not { } source ? null : new V1EventSource { Component = source.Component, Host = source.Host },
        FirstTimestamp = first,
        LastTimestamp = last,
        Count = e.Count,
        ReportingComponent = e.ReportingComponent,
        ReportingInstance = e.ReportingInstance,
    };

    /// <summary>A timestamp as its JSON round trip gives it back (the wire format's precision), as the store's own copy
    /// made it: the stored object is the same in memory as in the journal.</summary>
    private static DateTime? AsStored(DateTime? time) =>
        time is null ? null : KubernetesJson.Deserialize<Corev1Event>(KubernetesJson.Serialize(new Corev1Event { FirstTimestamp = time })).FirstTimestamp;

    public Corev1Event Build(V1ObjectReference involved, string type, string reason, string message, DateTime now) => new()
    {
        ApiVersion = "v1",
        Kind = "Event",
        Metadata = new V1ObjectMeta
        {
            Name = $"{involved.Name}.{UniqueSuffix()}",
            NamespaceProperty = string.IsNullOrEmpty(involved.NamespaceProperty) ? "default" : involved.NamespaceProperty,
        },
        InvolvedObject = involved,
        Reason = reason,
        Message = message,
        Type = type,
        Source = new V1EventSource { Component = _component, Host = _host },
        FirstTimestamp = now,
        LastTimestamp = now,
        Count = 1,
        ReportingComponent = _component,
        ReportingInstance = _host ?? "",
    };

    public static V1ObjectReference ReferenceTo(IKubernetesObject<V1ObjectMeta> obj) => new()
    {
        ApiVersion = string.IsNullOrEmpty(obj.ApiVersion) ? ModelTypes.ApiVersionOf(obj.GetType()) : obj.ApiVersion,
        Kind = string.IsNullOrEmpty(obj.Kind) ? ModelTypes.KindOf(obj.GetType()) : obj.Kind,
        Name = obj.Metadata.Name,
        NamespaceProperty = obj.Metadata.NamespaceProperty,
        Uid = obj.Metadata.Uid,
        ResourceVersion = obj.Metadata.ResourceVersion,
    };

    // client-go names events <object>.<unix nanos as hex>; 16 hex digits of the clock plus randomness keeps
    // names unique when one actor records several events in the same tick.
    private string UniqueSuffix()
    {
        var ticks = (ulong)(_clock() - DateTime.UnixEpoch).Ticks * 100UL;
        var noise = (ulong)RandomNumberGenerator.GetInt32(0, 1 << 16);
        return ((ticks & ~0xFFFFUL) | noise).ToString("x16");
    }
}
