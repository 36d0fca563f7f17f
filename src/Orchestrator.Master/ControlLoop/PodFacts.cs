using k8s.Models;

namespace Orchestrator.Master.ControlLoop;

/// <summary>Reading a pod's state the way Kubernetes' controller helpers do (podutil / controller_utils).</summary>
internal static class PodFacts
{
    public static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    /// <summary>Counted by controllers: not finished and not being deleted.</summary>
    public static bool IsActive(V1Pod pod) => !IsTerminal(pod) && pod.Metadata.DeletionTimestamp is null;

    public static V1PodCondition? Condition(V1Pod pod, string type) =>
        pod.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    public static bool IsReady(V1Pod pod) => Condition(pod, "Ready")?.Status == "True";

    /// <summary>Ready for at least <paramref name="minReadySeconds"/> (the Ready condition's transition time).</summary>
    public static bool IsAvailable(V1Pod pod, int minReadySeconds, DateTime now)
    {
        var ready = Condition(pod, "Ready");
        if (ready?.Status != "True") return false;
        if (minReadySeconds <= 0) return true;
        return ready.LastTransitionTime is { } since && since.AddSeconds(minReadySeconds) <= now;
    }

    public static bool IsScheduled(V1Pod pod) => !string.IsNullOrEmpty(pod.Spec?.NodeName);

    public static int RestartCount(V1Pod pod) => pod.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;

    /// <summary>True when every label of <paramref name="wanted"/> is on the pod with the same value.</summary>
    public static bool HasLabels(V1Pod pod, IDictionary<string, string>? wanted) =>
        wanted is null || wanted.All(kv => pod.Metadata.Labels is { } l && l.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
