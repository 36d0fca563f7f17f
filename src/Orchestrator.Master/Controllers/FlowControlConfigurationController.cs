using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// API Priority and Fairness' configuration, kept as kube-apiserver's ensurer (pkg/registry/flowcontrol/ensurer) and
/// config controller keep it: the mandatory FlowSchemas and PriorityLevelConfigurations are created when missing and
/// put back to their fixed spec; the suggested ones are created when missing and updated while their
/// <c>apf.kubernetes.io/autoupdate-spec</c> annotation says "true" (no annotation or not a boolean: only while the
/// user never changed the spec, generation 1), and the annotation is written to say which; objects marked
/// auto-updated that are no longer part of the bootstrap configuration are deleted. Every FlowSchema's
/// <c>Dangling</c> condition says whether its priority level exists. Level-triggered on one key: any change of either
/// kind reconciles the whole configuration.
/// </summary>
internal sealed class FlowControlConfigurationController : ControllerActor
{
    public const string FlowSchemas = "flowschemas";
    public const string PriorityLevels = "prioritylevelconfigurations";
    private static readonly ResourceKey Everything = new(FlowSchemas, null, "*");

    public FlowControlConfigurationController(IActorRef store, TimeSpan resync) : base(store, [FlowSchemas, PriorityLevels], resync)
    {
    }

    public static Props Props(IActorRef store, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new FlowControlConfigurationController(store, resync));

    protected override IEnumerable<ResourceKey> AllKeys() => [Everything];

    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current) =>
        Enqueue(Everything);

    protected override void Reconcile(ResourceKey key)
    {
        var levels = Cache.List<V1PriorityLevelConfiguration>(PriorityLevels).ToDictionary(p => p.Metadata.Name, StringComparer.Ordinal);
        var schemas = Cache.List<V1FlowSchema>(FlowSchemas).ToDictionary(f => f.Metadata.Name, StringComparer.Ordinal);
        Ensure(PriorityLevels, levels, FlowControlDefaults.MandatoryPriorityLevels(), FlowControlDefaults.SuggestedPriorityLevels(), p => p.Spec,
            (p, spec) => p.Spec = spec);
        Ensure(FlowSchemas, schemas, FlowControlDefaults.MandatoryFlowSchemas(), FlowControlDefaults.SuggestedFlowSchemas(), f => f.Spec,
            (f, spec) => f.Spec = spec);
        foreach (var schema in schemas.Values)
            if (DanglingCondition(schema, levels.ContainsKey(schema.Spec?.PriorityLevelConfiguration?.Name ?? ""), DateTime.UtcNow) is { } updated)
                Send(new UpdateObject(FlowSchemas, updated, "status", Manager: new FieldManager("api-priority-and-fairness-config-consumer-v1")), key);
    }

    private void Ensure<T, TSpec>(string resource, Dictionary<string, T> existing, IReadOnlyList<T> mandatory, IReadOnlyList<T> suggested,
        Func<T, TSpec> specOf, Action<T, TSpec> setSpec) where T : class, IKubernetesObject<V1ObjectMeta> where TSpec : class
    {
        foreach (var (wanted, always) in mandatory.Select(m => (m, true)).Concat(suggested.Select(s => (s, false))))
        {
            if (!existing.TryGetValue(wanted.Metadata.Name, out var current))
            {
                Send(new CreateObject(resource, wanted), Everything);
                continue;
            }
            if (current.Metadata.DeletionTimestamp is not null) continue;
            if (Revised(current, wanted, always, specOf, setSpec) is { } revised)
                Send(new UpdateObject(resource, revised) { HandedOver = true }, Everything);
        }
        var names = mandatory.Concat(suggested).Select(o => o.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, current) in existing)
            if (!names.Contains(name) && AutoUpdate(current) == true && current.Metadata.DeletionTimestamp is null)
                Send(new DeleteObject(new ResourceKey(resource, null, name), PreconditionUid: current.Metadata.Uid), Everything);
    }

    /// <summary>kube's ReviseIfNeeded: the object with the bootstrap spec and the annotation saying whether it is
    /// kept up to date, or null when nothing changes.</summary>
    internal static T? Revised<T, TSpec>(T current, T bootstrap, bool mandatory, Func<T, TSpec> specOf, Action<T, TSpec> setSpec)
        where T : class, IKubernetesObject<V1ObjectMeta> where TSpec : class
    {
        var autoUpdate = mandatory || ShouldUpdateSpec(current);
        var annotation = autoUpdate ? "true" : "false";
        var annotationChanges = current.Metadata.Annotations?.TryGetValue(FlowControlDefaults.AutoUpdateAnnotation, out var value) != true || value != annotation;
        var specChanges = autoUpdate && !KubeObjects.SameJson(specOf(current), specOf(bootstrap));
        if (!annotationChanges && !specChanges) return null;
        var revised = KubeObjects.Clone(current);
        revised.Metadata.Annotations ??= new Dictionary<string, string>();
        revised.Metadata.Annotations[FlowControlDefaults.AutoUpdateAnnotation] = annotation;
        if (specChanges) setSpec(revised, KubeObjects.Clone(specOf(bootstrap)));
        return revised;
    }

    private static bool? AutoUpdate(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.Annotations?.TryGetValue(FlowControlDefaults.AutoUpdateAnnotation, out var value) == true && bool.TryParse(value, out var parsed)
            ? parsed
            : null;

    /// <summary>shouldUpdateSpec: the annotation's boolean; without one, only an object whose spec was never changed.</summary>
    private static bool ShouldUpdateSpec(IKubernetesObject<V1ObjectMeta> obj) => AutoUpdate(obj) ?? obj.Metadata.Generation == 1;

    /// <summary>The schema with its Dangling condition brought up to date, or null when it already says so.</summary>
    internal static V1FlowSchema? DanglingCondition(V1FlowSchema schema, bool levelExists, DateTime now)
    {
        var level = schema.Spec?.PriorityLevelConfiguration?.Name ?? "";
        var (status, reason, message) = levelExists
            ? ("False", "Found", $"This FlowSchema references the PriorityLevelConfiguration object named \"{level}\" and it exists")
            : ("True", "NotFound", $"This FlowSchema references the PriorityLevelConfiguration object named \"{level}\" but there is no such object");
        var current = schema.Status?.Conditions?.FirstOrDefault(c => c.Type == "Dangling");
        if (current is not null && current.Status == status && current.Reason == reason && current.Message == message) return null;
        var updated = KubeObjects.Clone(schema);
        updated.Status ??= new V1FlowSchemaStatus();
        var conditions = updated.Status.Conditions?.Where(c => c.Type != "Dangling").ToList() ?? [];
        conditions.Add(new V1FlowSchemaCondition
        {
            Type = "Dangling", Status = status, Reason = reason, Message = message,
            LastTransitionTime = current?.Status == status && current.LastTransitionTime is { } t
                ? t
                : new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc),
        });
        updated.Status.Conditions = conditions;
        return updated;
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        // a conflict or AlreadyExists: the feed brings the newer state and enqueues again; anything else is tried again
        if (reply.Failed is { } failed && failed.Error.Code is not (409 or 404))
        {
            Log.Warning("flow control configuration: {0} {1}; retrying", failed.Error.Code, failed.Error.Message);
            RequeueAfter(Everything, TimeSpan.FromSeconds(1));
        }
        base.OnStoreReplied(reply);
    }
}
