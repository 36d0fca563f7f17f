using k8s.Models;

namespace Orchestrator.Master.Controllers.Autoscaling;

/// <summary>A rescale of <paramref name="Change"/> replicas (up or down) at <paramref name="Timestamp"/>.</summary>
internal sealed record ScaleEvent(DateTime Timestamp, int Change);

/// <summary>A result of normalizing, with the conditions it sets: AbleToScale's reason and message (stabilized or
/// not) and ScalingLimited's (limited when the count differs from the stabilized one).</summary>
internal sealed record Normalized(int Replicas, string AbleReason, string AbleMessage, bool Limited, string LimitReason, string LimitMessage);

/// <summary>
/// Kubernetes' normalization of a metric's proposal (horizontal.go): stabilization over the recent recommendations of
/// one autoscaler, then the rate limits — without <c>spec.behavior</c> the legacy rules (scale-down stabilization of
/// the controller's window, at most doubling or to 4 going up), with it the scaleUp and scaleDown rules (windows,
/// Pods and Percent policies over their periods, selectPolicy Max, Min or Disabled) — and the min and max replicas.
/// Remembers, per autoscaler, the recommendations and the scale events (as the controller does, in memory).
/// </summary>
internal sealed class ScalingNormalizer(TimeSpan downscaleStabilization)
{
    private sealed record Recommendation(DateTime Timestamp, int Replicas);

    private readonly Dictionary<string, List<Recommendation>> _recommendations = new();
    private readonly Dictionary<string, List<ScaleEvent>> _scaleUps = new();
    private readonly Dictionary<string, List<ScaleEvent>> _scaleDowns = new();

    public void Forget(string key)
    {
        _recommendations.Remove(key);
        _scaleUps.Remove(key);
        _scaleDowns.Remove(key);
    }

    /// <summary>recordInitialRecommendation: the current count is the first recommendation of a new autoscaler.</summary>
    public void RecordInitial(string key, int current, DateTime now)
    {
        if (!_recommendations.ContainsKey(key)) _recommendations[key] = [new Recommendation(now, current)];
    }

    /// <summary>normalizeDesiredReplicas: no behavior given.</summary>
    public Normalized Legacy(string key, int current, int desired, int min, int max, DateTime now)
    {
        var list = _recommendations.TryGetValue(key, out var l) ? l : _recommendations[key] = [];
        var stabilized = desired;
        var cutoff = now - downscaleStabilization;
        var replace = -1;
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Timestamp > cutoff) stabilized = Math.Max(stabilized, list[i].Replicas);
            else replace = i;
        }
        if (replace >= 0) list[replace] = new Recommendation(now, desired);
        else list.Add(new Recommendation(now, desired));
        var (able, ableMessage) = stabilized != desired
            ? ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
            : ("ReadyForNewScale", "recommended size matches current size");

        var scaleUpLimit = Math.Max(2 * current, 4);
        var (maximum, reason, message) = max > scaleUpLimit
            ? (scaleUpLimit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
            : (max, "TooManyReplicas", "the desired replica count is more than the maximum replica count");
        int result;
        if (stabilized < min) (result, reason, message) = (min, "TooFewReplicas", "the desired replica count is less than the minimum replica count");
        else if (stabilized > maximum) result = maximum;
        else (result, reason, message) = (stabilized, "DesiredWithinRange", "the desired count is within the acceptable range");
        return new Normalized(result, able, ableMessage, result != stabilized, reason, message);
    }

    /// <summary>normalizeDesiredReplicasWithBehaviors: the rules of <paramref name="behavior"/> (defaulted by the API).</summary>
    public Normalized WithBehavior(string key, V2HorizontalPodAutoscalerBehavior behavior, int current, int desired, int min, int max, DateTime now)
    {
        var up = behavior.ScaleUp ?? DefaultRules(up: true);
        var down = behavior.ScaleDown ?? DefaultRules(up: false);
        var stabilized = Stabilize(key, current, desired, up.StabilizationWindowSeconds ?? 0,
            down.StabilizationWindowSeconds ?? (int)downscaleStabilization.TotalSeconds, now);
        var (able, ableMessage) = stabilized == desired
            ? ("ReadyForNewScale", "recommended size matches current size")
            : desired >= current
                ? ("ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation")
                : ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation");

        var (result, reason, message) = (stabilized, "DesiredWithinRange", "the desired count is within the acceptable range");
        if (stabilized > current)
        {
            var limit = Math.Max(ScaleUpLimit(current, Events(_scaleUps, key), up, now), current);
            var (maximum, r, m) = max > limit
                ? (limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
                : (max, "TooManyReplicas", "the desired replica count is more than the maximum replica count");
            if (stabilized > maximum) (result, reason, message) = (maximum, r, m);
        }
        else if (stabilized < current)
        {
            var limit = Math.Min(ScaleDownLimit(current, Events(_scaleDowns, key), down, now), current);
            var (minimum, r, m) = min < limit
                ? (limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")
                : (min, "TooFewReplicas", "the desired replica count is less than the minimum replica count");
            if (stabilized < minimum) (result, reason, message) = (minimum, r, m);
        }
        return new Normalized(result, able, ableMessage, result != stabilized, reason, message);
    }

    /// <summary>stabilizeRecommendationWithBehaviors: the count stays between the lowest recommendation of the scale-up
    /// window and the highest of the scale-down window; this recommendation is remembered.</summary>
    private int Stabilize(string key, int current, int desired, int upWindow, int downWindow, DateTime now)
    {
        var list = _recommendations.TryGetValue(key, out var l) ? l : _recommendations[key] = [];
        int upRecommendation = desired, downRecommendation = desired;
        var upCutoff = now.AddSeconds(-upWindow);
        var downCutoff = now.AddSeconds(-downWindow);
        var replace = -1;
        for (var i = 0; i < list.Count; i++)
        {
            var rec = list[i];
            if (rec.Timestamp > upCutoff) upRecommendation = Math.Min(rec.Replicas, upRecommendation);
            if (rec.Timestamp > downCutoff) downRecommendation = Math.Max(rec.Replicas, downRecommendation);
            if (rec.Timestamp < upCutoff && rec.Timestamp < downCutoff) replace = i;
        }
        var recommendation = current;
        if (recommendation < upRecommendation) recommendation = upRecommendation;
        if (recommendation > downRecommendation) recommendation = downRecommendation;
        if (replace >= 0) list[replace] = new Recommendation(now, desired);
        else list.Add(new Recommendation(now, desired));
        return recommendation;
    }

    /// <summary>storeScaleEvent: a rescale, counted against the policies of its direction for their periods.</summary>
    public void RecordScale(string key, V2HorizontalPodAutoscalerBehavior? behavior, int previous, int next, DateTime now)
    {
        if (behavior is null || previous == next) return;
        var (events, rules) = next > previous ? (_scaleUps, behavior.ScaleUp) : (_scaleDowns, behavior.ScaleDown);
        var longest = rules?.Policies?.Count > 0 ? rules.Policies.Max(p => p.PeriodSeconds) : 0;
        var list = Events(events, key);
        list.RemoveAll(e => e.Timestamp < now.AddSeconds(-longest));
        list.Add(new ScaleEvent(now, Math.Abs(next - previous)));
    }

    /// <summary>GenerateHPAScaleUpRules / GenerateHPAScaleDownRules (the API fills them in; this covers objects written before).</summary>
    private static V2HPAScalingRules DefaultRules(bool up) => new()
    {
        SelectPolicy = "Max",
        StabilizationWindowSeconds = up ? 0 : 300,
        Policies = up
            ? [new V2HPAScalingPolicy { Type = "Pods", Value = 4, PeriodSeconds = 15 }, new V2HPAScalingPolicy { Type = "Percent", Value = 100, PeriodSeconds = 15 }]
            : [new V2HPAScalingPolicy { Type = "Percent", Value = 100, PeriodSeconds = 15 }],
    };

    private static List<ScaleEvent> Events(Dictionary<string, List<ScaleEvent>> events, string key) =>
        events.TryGetValue(key, out var list) ? list : events[key] = [];

    private static int ChangeInPeriod(List<ScaleEvent> events, int periodSeconds, DateTime now)
    {
        var cutoff = now.AddSeconds(-periodSeconds);
        return events.Where(e => e.Timestamp > cutoff).Sum(e => e.Change);
    }

    /// <summary>calculateScaleUpLimitWithScalingRules.</summary>
    internal static int ScaleUpLimit(int current, List<ScaleEvent> events, V2HPAScalingRules rules, DateTime now)
    {
        if (rules.SelectPolicy == "Disabled") return current;
        var min = rules.SelectPolicy == "Min";
        var result = min ? int.MaxValue : int.MinValue;
        foreach (var policy in rules.Policies ?? [])
        {
            var start = current - ChangeInPeriod(events, policy.PeriodSeconds, now);
            var proposed = policy.Type == "Pods" ? start + policy.Value : (int)Math.Ceiling(start * (1 + policy.Value / 100.0));
            result = min ? Math.Min(result, proposed) : Math.Max(result, proposed);
        }
        return result;
    }

    /// <summary>calculateScaleDownLimitWithBehaviors.</summary>
    internal static int ScaleDownLimit(int current, List<ScaleEvent> events, V2HPAScalingRules rules, DateTime now)
    {
        if (rules.SelectPolicy == "Disabled") return current;
        var min = rules.SelectPolicy == "Min";
        var result = min ? int.MinValue : int.MaxValue;
        foreach (var policy in rules.Policies ?? [])
        {
            var start = current + ChangeInPeriod(events, policy.PeriodSeconds, now);
            var proposed = policy.Type == "Pods" ? start - policy.Value : (int)(start * (1 - policy.Value / 100.0));
            result = min ? Math.Max(result, proposed) : Math.Min(result, proposed);
        }
        return result;
    }
}
