using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Controllers.Autoscaling;
using Orchestrator.Master.ResourceMetrics;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers;

/// <summary>
/// Kubernetes' horizontal pod autoscaler controller: every sync period (15 s, as
/// --horizontal-pod-autoscaler-sync-period; the first a period after the autoscaler is first seen) each autoscaling/v2
/// HorizontalPodAutoscaler reads its target's scale, computes a replica count per metric from the pods' usage
/// (<see cref="ResourceUsageCache"/>, what metrics.k8s.io serves), takes the largest, stabilizes and limits
/// it (<see cref="ScalingNormalizer"/>), writes the target's spec.replicas when it differs (event SuccessfulRescale) and
/// the status (currentReplicas, desiredReplicas, currentMetrics, lastScaleTime, the conditions AbleToScale,
/// ScalingActive and ScalingLimited). Writes the targets' replicas and the autoscalers' status only.
/// </summary>
internal sealed class HorizontalPodAutoscalerController : ControllerActor
{
    private const string Autoscalers = "horizontalpodautoscalers";
    private const string Pods = "pods";

    private readonly ResourceUsageCache _usage;
    private readonly TimeSpan _syncPeriod;
    private readonly double _tolerance;
    private readonly ScalingNormalizer _normalizer;
    private readonly EventRecorder _events;
    // When each autoscaler's current sync period began: when it was first seen, then at each sync.
    private readonly Dictionary<ResourceKey, DateTime> _periodStart = new();

    /// <summary>A rescale written to the target; its reply finishes the sync.</summary>
    private sealed record Rescaled(ResourceKey Key, V2HorizontalPodAutoscaler Hpa, int Previous, int Desired, string Reason);

    public HorizontalPodAutoscalerController(IActorRef store, ResourceUsageCache usage, TimeSpan syncPeriod, TimeSpan downscaleStabilization, double tolerance)
        : base(store, [Autoscalers, Pods, .. ScaleTargets.Resources], syncPeriod)
    {
        _usage = usage;
        _syncPeriod = syncPeriod;
        _tolerance = tolerance;
        _normalizer = new ScalingNormalizer(downscaleStabilization);
        _events = new EventRecorder(store, "horizontal-pod-autoscaler");
    }

    public static Props Props(IActorRef store, ResourceUsageCache usage, TimeSpan? syncPeriod = null, TimeSpan? downscaleStabilization = null,
        double tolerance = ReplicaCalculator.DefaultTolerance) =>
        Akka.Actor.Props.Create(() => new HorizontalPodAutoscalerController(store, usage, syncPeriod ?? TimeSpan.FromSeconds(15),
            downscaleStabilization ?? TimeSpan.FromMinutes(5), tolerance));

    protected override IEnumerable<ResourceKey> AllKeys() => Cache.Keys(Autoscalers);

    // Only the autoscalers wake the loop: pods and targets are read at each sync, as Kubernetes' controller does.
    protected override void OnChanged(string resource, IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta>? current)
    {
        if (resource != Autoscalers) return;
        var key = ObjectCache.KeyOf(resource, (current ?? old)!);
        if (current is null)
        {
            _normalizer.Forget(key.ToString());
            _periodStart.Remove(key);
            return;
        }
        Enqueue(key);
    }

    protected override void Reconcile(ResourceKey key)
    {
        var hpa = Cache.Get<V2HorizontalPodAutoscaler>(key.Resource, key.Namespace, key.Name);
        if (hpa is null || hpa.Metadata.DeletionTimestamp is not null) return;
        var now = DateTime.UtcNow;
        // A sync period after the autoscaler was first seen, then once per period (our own status writes wake it too):
        // Kubernetes' queue adds every autoscaler with the sync period as delay (FixedItemIntervalRateLimiter), so a
        // new one is first synced a period after it was created and a client may update it in between without conflict.
        if (!_periodStart.TryGetValue(key, out var start))
        {
            _periodStart[key] = now;
            RequeueAfter(key, _syncPeriod);
            return;
        }
        if (now - start < _syncPeriod * 0.9)
        {
            RequeueAfter(key, start + _syncPeriod - now);
            return;
        }
        _periodStart[key] = now;
        Sync(key, KubeObjects.Clone(hpa), now);
    }

    private void Sync(ResourceKey key, V2HorizontalPodAutoscaler hpa, DateTime now)
    {
        var ns = key.Namespace!;
        var original = KubeObjects.Serialize(hpa.Status ?? new V2HorizontalPodAutoscalerStatus());
        var status = hpa.Status ??= new V2HorizontalPodAutoscalerStatus();
        status.ObservedGeneration = hpa.Metadata.Generation;
        var (scale, scaleError) = ScaleTargets.Find(Cache, ns, hpa.Spec.ScaleTargetRef);
        if (scale is null)
        {
            _events.Record(hpa, EventRecorder.Warning, "FailedGetScale", scaleError!, Self);
            HpaConditions.Set(status, "AbleToScale", "False", "FailedGetScale", $"the HPA controller was unable to get the target's current scale: {scaleError}", now);
            WriteStatus(hpa, original);
            return;
        }
        HpaConditions.Set(status, "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale", now);
        var current = scale.Replicas;
        var min = hpa.Spec.MinReplicas ?? 1;
        _normalizer.RecordInitial(key.ToString(), current, now);

        int desired;
        string reason = "";
        List<V2MetricStatus>? metricStatuses = status.CurrentMetrics?.ToList();
        if (current == 0 && min != 0)
        {
            desired = 0;
            HpaConditions.Set(status, "ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero", now);
        }
        else if (current > hpa.Spec.MaxReplicas)
        {
            (desired, reason) = (hpa.Spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas");
        }
        else if (current < min)
        {
            (desired, reason) = (min, "Current number of replicas below Spec.MinReplicas");
        }
        else
        {
            if (scale.Selector is null)
            {
                _events.Record(hpa, EventRecorder.Warning, "SelectorRequired", "selector is required", Self);
                HpaConditions.Set(status, "ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector", now);
                Finish(hpa, original, current, current, metricStatuses);
                return;
            }
            var pods = Cache.List<V1Pod>(Pods, ns).Where(p => scale.Selector.Matches(p.Metadata.Labels)).ToList();
            var usage = _usage.Pods(ns);
            var outcomes = hpa.Spec.Metrics.Select(m => MetricReplicas.Compute(m, current, pods, usage, now, _tolerance)).ToList();
            metricStatuses = outcomes.Select(o => o.Status ?? new V2MetricStatus { Type = "" }).ToList();
            var valid = outcomes.Where(o => !o.Failed).ToList();
            var best = valid.Count == 0 ? null : valid.Aggregate((a, b) => b.Replicas > a.Replicas ? b : a);
            var failures = outcomes.Where(o => o.Failed).ToList();
            if (best is null || (failures.Count > 0 && best.Replicas < current))
            {
                var first = failures[0];
                _events.Record(hpa, EventRecorder.Warning, first.FailureReason!, first.Error!, Self);
                HpaConditions.Set(status, "ScalingActive", "False", first.FailureReason!, $"the HPA was unable to compute the replica count: {first.Error}", now);
                _events.Record(hpa, EventRecorder.Warning, "FailedComputeMetricsReplicas",
                    $"invalid metrics ({failures.Count} invalid out of {outcomes.Count}), first error is: {first.Error}", Self);
                Finish(hpa, original, current, status.DesiredReplicas, metricStatuses.Where(s => s.Type.Length > 0).ToList());
                return;
            }
            foreach (var failure in failures) _events.Record(hpa, EventRecorder.Warning, failure.FailureReason!, failure.Error!, Self);
            HpaConditions.Set(status, "ScalingActive", "True", "ValidMetricFound",
                $"the HPA was able to successfully calculate a replica count from {best.Name}", now);
            desired = best.Replicas;
            if (desired > current) reason = $"{best.Name} above target";
            if (desired < current) reason = "All metrics below target";
            var normalized = hpa.Spec.Behavior is { } behavior
                ? _normalizer.WithBehavior(key.ToString(), behavior, current, desired, min, hpa.Spec.MaxReplicas, now)
                : _normalizer.Legacy(key.ToString(), current, desired, min, hpa.Spec.MaxReplicas, now);
            HpaConditions.Set(status, "AbleToScale", "True", normalized.AbleReason, normalized.AbleMessage, now);
            HpaConditions.Set(status, "ScalingLimited", normalized.Limited ? "True" : "False", normalized.LimitReason, normalized.LimitMessage, now);
            desired = normalized.Replicas;
            metricStatuses = metricStatuses.Where(s => s.Type.Length > 0).ToList();
        }

        if (desired == current || (current == 0 && min != 0))
        {
            Finish(hpa, original, current, desired, metricStatuses);
            return;
        }
        status.CurrentMetrics = metricStatuses is { Count: > 0 } ? metricStatuses : null;
        Send(new UpdateObject(scale.Resource, ScaleTargets.Scaled(scale, desired), Manager: new FieldManager("kube-controller-manager", Subresource: "scale")),
            new Rescaled(key, hpa, current, desired, reason));
    }

    protected override void OnStoreReplied(StoreReplied reply)
    {
        if (reply.Tag is not Rescaled r)
        {
            base.OnStoreReplied(reply);
            return;
        }
        var now = DateTime.UtcNow;
        var status = r.Hpa.Status!;
        var original = "";
        if (reply.Failed is { } failed)
        {
            _events.Record(r.Hpa, EventRecorder.Warning, "FailedRescale", $"New size: {r.Desired}; reason: {r.Reason}; error: {failed.Error.Message}", Self);
            HpaConditions.Set(status, "AbleToScale", "False", "FailedUpdateScale", $"the HPA controller was unable to update the target scale: {failed.Error.Message}", now);
            Finish(r.Hpa, original, r.Previous, status.DesiredReplicas, status.CurrentMetrics?.ToList());
            return;
        }
        _normalizer.RecordScale(r.Key.ToString(), r.Hpa.Spec.Behavior, r.Previous, r.Desired, now);
        _events.Record(r.Hpa, EventRecorder.Normal, "SuccessfulRescale", $"New size: {r.Desired}; reason: {r.Reason}", Self);
        status.LastScaleTime = now;
        Finish(r.Hpa, original, r.Previous, r.Desired, status.CurrentMetrics?.ToList());
    }

    /// <summary>setStatus and updateStatusIfNeeded: the counts and metrics, written when anything changed.</summary>
    private void Finish(V2HorizontalPodAutoscaler hpa, string original, int current, int desired, List<V2MetricStatus>? metrics)
    {
        var status = hpa.Status!;
        status.CurrentReplicas = current;
        status.DesiredReplicas = desired;
        status.CurrentMetrics = metrics is { Count: > 0 } ? metrics : null;
        WriteStatus(hpa, original);
    }

    private void WriteStatus(V2HorizontalPodAutoscaler hpa, string original)
    {
        if (KubeObjects.Serialize(hpa.Status) == original) return;
        var updated = KubeObjects.Clone(hpa);
        updated.Metadata.ResourceVersion = null; // the controller is the status' only writer
        SendAndForget(new UpdateObject(Autoscalers, updated, "status"));
    }
}
