using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>Kubernetes' taint and toleration matching (core/v1 Toleration.ToleratesTaint and the helpers of
/// k8s.io/component-helpers' scheduling/corev1 and pkg/apis/core/v1/helper), shared by the controllers that read them.</summary>
internal static class Tolerations
{
    public const string NoSchedule = "NoSchedule", PreferNoSchedule = "PreferNoSchedule", NoExecute = "NoExecute";

    /// <summary>Toleration.ToleratesTaint: the effect (empty: all) and key (empty: all) match, and Exists, or Equal
    /// (also the empty operator) with the same value.</summary>
    public static bool Tolerates(V1Toleration toleration, V1Taint taint)
    {
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect) return false;
        if (!string.IsNullOrEmpty(toleration.Key) && toleration.Key != taint.Key) return false;
        return toleration.OperatorProperty switch
        {
            "Exists" => true,
            null or "" or "Equal" => (toleration.Value ?? "") == (taint.Value ?? ""),
            _ => false,
        };
    }

    /// <summary>GetMatchingTolerations: whether every taint is tolerated, and for each taint the first toleration that
    /// tolerates it (empty when not all are).</summary>
    public static (bool AllTolerated, IReadOnlyList<V1Toleration> Used) Matching(IReadOnlyList<V1Taint> taints, IList<V1Toleration>? tolerations)
    {
        var used = new List<V1Toleration>(taints.Count);
        foreach (var taint in taints)
        {
            var match = tolerations?.FirstOrDefault(t => t is not null && Tolerates(t, taint));
            if (match is null) return (false, []);
            used.Add(match);
        }
        return (true, used);
    }

    /// <summary>The taint eviction controller's getMinTolerationTime: the smallest tolerationSeconds of
    /// <paramref name="used"/> (zero or less: at once), null when none has a limit (tolerated for ever); no toleration at
    /// all is zero.</summary>
    public static TimeSpan? MinTolerationTime(IReadOnlyList<V1Toleration> used)
    {
        if (used.Count == 0) return TimeSpan.Zero;
        long? min = null;
        foreach (var toleration in used)
        {
            if (toleration.TolerationSeconds is not { } seconds) continue;
            if (seconds <= 0) return TimeSpan.Zero;
            if (min is null || seconds < min) min = seconds;
        }
        return min is { } m ? TimeSpan.FromSeconds(m) : null;
    }

    /// <summary>Taint.MatchTaint: the same key and effect (a node has at most one taint of each pair).</summary>
    public static bool SameKeyAndEffect(V1Taint a, V1Taint b) => a.Key == b.Key && a.Effect == b.Effect;
}
