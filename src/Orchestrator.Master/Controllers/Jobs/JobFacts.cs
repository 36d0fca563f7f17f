using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Controllers.Jobs;

/// <summary>
/// The pure rules of Kubernetes' job controller (job_controller.go, pod_failure_policy.go, success_policy.go,
/// backoff_utils.go, indexed_job_utils.go): which pods count as failed, which rule of a podFailurePolicy a failed pod
/// matches, the back-off before replacing failed pods, completion indexes, success policies and job conditions.
/// </summary>
internal static class JobFacts
{
    public const string CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
    public const string CompletionIndexLabel = "batch.kubernetes.io/job-completion-index";
    public const string IndexFailureCountAnnotation = "batch.kubernetes.io/job-index-failure-count";
    public const string CompletionIndexEnv = "JOB_COMPLETION_INDEX";
    public static readonly TimeSpan DefaultPodFailureBackOff = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxPodFailureBackOff = TimeSpan.FromMinutes(6);

    public static bool IsIndexed(V1Job job) => job.Spec?.CompletionMode == "Indexed";

    public static bool IsSuspended(V1Job job) => job.Spec?.Suspend == true;

    public static bool HasBackoffLimitPerIndex(V1Job job) => IsIndexed(job) && job.Spec?.BackoffLimitPerIndex is not null;

    public static bool OnlyReplaceFailedPods(V1Job job) => job.Spec?.PodReplacementPolicy == "Failed" || job.Spec?.PodFailurePolicy is not null;

    public static V1JobCondition? Condition(V1Job job, string type) => job.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    public static bool IsTrue(V1Job job, string type) => Condition(job, type)?.Status == "True";

    public static bool IsFinished(V1Job job) => IsTrue(job, "Complete") || IsTrue(job, "Failed");

    /// <summary>The pod's completion index, or -1 when it has none (or an unreadable one).</summary>
    public static int CompletionIndex(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(CompletionIndexAnnotation, out var text) == true && int.TryParse(text, out var i) && i >= 0 ? i : -1;

    /// <summary>Kubernetes' isPodFailed: Failed, or — unless only failed pods are replaced — being deleted before it
    /// succeeded (an orphan never reaches Failed).</summary>
    public static bool IsPodFailed(V1Pod pod, V1Job job)
    {
        if (pod.Status?.Phase == "Failed") return true;
        if (OnlyReplaceFailedPods(job)) return false;
        return pod.Metadata.DeletionTimestamp is not null && pod.Status?.Phase != "Succeeded";
    }

    /// <summary>Being deleted and not finished yet (Kubernetes' CountTerminatingPods).</summary>
    public static bool IsTerminating(V1Pod pod) => pod.Metadata.DeletionTimestamp is not null && !PodFacts.IsTerminal(pod);

    /// <summary>The outcome of a failed pod under the job's podFailurePolicy (Kubernetes' matchPodFailurePolicy): the
    /// message when it fails the whole job, whether it counts against backoffLimit, and the matched action.</summary>
    public static (string? FailJobMessage, bool CountFailed, string? Action) MatchPodFailurePolicy(V1PodFailurePolicy? policy, V1Pod pod)
    {
        if (policy is null) return (null, true, null);
        var rules = policy.Rules ?? [];
        for (var index = 0; index < rules.Count; index++)
        {
            var rule = rules[index];
            if (rule.OnExitCodes is { } onExitCodes)
            {
                if (MatchExitCodes(pod, onExitCodes) is not { } container) continue;
                var message = $"Container {container.Name} for pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} failed with exit code " +
                              $"{container.State.Terminated.ExitCode} matching {rule.Action} rule at index {index}";
                if (Outcome(rule.Action, message) is { } outcome) return outcome;
            }
            else if (rule.OnPodConditions is { Count: > 0 } patterns)
            {
                if (MatchConditions(pod, patterns) is not { } condition) continue;
                var message = $"Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} has condition {condition.Type} matching {rule.Action} rule at index {index}";
                if (Outcome(rule.Action, message) is { } outcome) return outcome;
            }
        }
        return (null, true, null);
    }

    private static (string?, bool, string?)? Outcome(string action, string message) => action switch
    {
        "Ignore" => (null, false, action),
        "FailIndex" or "Count" => (null, true, action),
        "FailJob" => (message, true, action),
        _ => null, // an unknown action: the rule is skipped
    };

    private static V1ContainerStatus? MatchExitCodes(V1Pod pod, V1PodFailurePolicyOnExitCodesRequirement requirement)
    {
        foreach (var status in (pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.InitContainerStatuses ?? []))
        {
            if (status.State?.Terminated is not { } terminated || terminated.ExitCode == 0) continue;
            if (requirement.ContainerName is { } name && name != status.Name) continue;
            var listed = requirement.Values?.Contains(terminated.ExitCode) == true;
            if (requirement.OperatorProperty == "In" ? listed : requirement.OperatorProperty == "NotIn" && !listed) return status;
        }
        return null;
    }

    private static V1PodCondition? MatchConditions(V1Pod pod, IList<V1PodFailurePolicyOnPodConditionsPattern> patterns) =>
        patterns.Select(p => pod.Status?.Conditions?.FirstOrDefault(c => c.Type == p.Type && c.Status == (p.Status ?? "True")))
            .FirstOrDefault(c => c is not null);

    /// <summary>When the pod finished: its containers' last termination, else when it turned not Ready, else when it was
    /// marked for deletion, else its creation.</summary>
    public static DateTime FinishedAt(V1Pod pod)
    {
        var terminated = (pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.InitContainerStatuses ?? [])
            .Select(s => s.State?.Terminated?.FinishedAt).Where(t => t is not null).Select(t => t!.Value).DefaultIfEmpty().Max();
        if (terminated != default) return terminated;
        return PodFacts.Condition(pod, "Ready")?.LastTransitionTime ?? pod.Metadata.DeletionTimestamp ?? pod.Metadata.CreationTimestamp ?? DateTime.UtcNow;
    }

    /// <summary>Kubernetes' pod failure back-off: 10 s after the first failure since the last success, doubling with each
    /// further one, at most <see cref="MaxPodFailureBackOff"/>; the time still to wait after the last failure.</summary>
    public static TimeSpan RemainingBackOff(IEnumerable<V1Pod> pods, V1Job job, DateTime now, TimeSpan? baseBackOff = null)
    {
        pods = pods.ToList();
        var lastSuccess = pods.Where(p => p.Status?.Phase == "Succeeded").Select(FinishedAt).DefaultIfEmpty(DateTime.MinValue).Max();
        var failures = pods.Where(p => IsPodFailed(p, job) && MatchPodFailurePolicy(job.Spec.PodFailurePolicy, p).CountFailed)
            .Select(FinishedAt).Where(t => t > lastSuccess).ToList();
        if (failures.Count == 0) return TimeSpan.Zero;
        var backOff = BackOffAfter(failures.Count, baseBackOff ?? DefaultPodFailureBackOff);
        var remaining = backOff - (now - failures.Max());
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }

    public static TimeSpan BackOffAfter(int failures, TimeSpan baseBackOff)
    {
        if (failures <= 0) return TimeSpan.Zero;
        var ticks = baseBackOff.Ticks;
        for (var i = 1; i < failures && ticks < MaxPodFailureBackOff.Ticks; i++) ticks *= 2;
        return TimeSpan.FromTicks(Math.Min(ticks, MaxPodFailureBackOff.Ticks));
    }

    /// <summary>Kubernetes' pastBackoffLimitOnFailure: with restartPolicy OnFailure the container restarts of pods still
    /// running count against backoffLimit.</summary>
    public static bool PastBackoffLimitOnFailure(V1Job job, IEnumerable<V1Pod> pods)
    {
        if (job.Spec.Template?.Spec?.RestartPolicy != "OnFailure") return false;
        var restarts = pods.Where(p => p.Status?.Phase is "Running" or "Pending")
            .Sum(p => (p.Status?.ContainerStatuses ?? []).Concat(p.Status?.InitContainerStatuses ?? []).Sum(s => s.RestartCount));
        var limit = job.Spec.BackoffLimit ?? 6;
        return limit == 0 ? restarts > 0 : restarts >= limit;
    }

    /// <summary>Kubernetes' matchSuccessPolicy: the first rule the succeeded indexes satisfy, as the condition message.</summary>
    public static string? MatchSuccessPolicy(V1SuccessPolicy? policy, int completions, IndexSet succeeded)
    {
        if (policy?.Rules is not { Count: > 0 } rules || succeeded.Count == 0) return null;
        for (var index = 0; index < rules.Count; index++)
        {
            var rule = rules[index];
            if (rule.SucceededIndexes is { } text)
            {
                var wanted = IndexSet.ParseLenient(text, completions);
                var matched = wanted.Items.Count(succeeded.Contains);
                if (rule.SucceededCount is { } count ? matched >= count : matched == wanted.Count && wanted.Count > 0)
                    return $"Matched rules at index {index}";
            }
            else if (rule.SucceededCount is { } count && succeeded.Count >= count)
                return $"Matched rules at index {index}";
        }
        return null;
    }

    public static V1JobCondition NewCondition(string type, string status, string? reason, string? message, DateTime now) => new()
    {
        Type = type, Status = status, Reason = string.IsNullOrEmpty(reason) ? null : reason,
        Message = string.IsNullOrEmpty(message) ? null : message, LastProbeTime = now, LastTransitionTime = now,
    };

    /// <summary>Kubernetes' ensureJobConditionStatus: sets (or appends, unless False) the condition; true when it changed.</summary>
    public static bool EnsureCondition(List<V1JobCondition> conditions, string type, string status, string? reason, string? message, DateTime now)
    {
        var existing = conditions.FindIndex(c => c.Type == type);
        if (existing >= 0)
        {
            var c = conditions[existing];
            if (c.Status == status && (c.Reason ?? "") == (reason ?? "") && (c.Message ?? "") == (message ?? "")) return false;
            conditions[existing] = NewCondition(type, status, reason, message, now);
            return true;
        }
        if (status == "False") return false;
        conditions.Add(NewCondition(type, status, reason, message, now));
        return true;
    }
}
