using k8s.Models;

namespace Orchestrator.Master.Controllers.Deployments;

/// <summary>
/// A Deployment's status from its ReplicaSets (Kubernetes' calculateStatus and syncRolloutStatus): counts, and
/// the Available and Progressing conditions with Kubernetes' reasons and messages, and a ReplicaSet's ReplicaFailure. Condition times move only
/// when a condition's status or reason changes. Pure.
/// </summary>
internal static class DeploymentStatusCalculator
{
    public const string NewReplicaSetCreated = "NewReplicaSetCreated";
    public const string FoundNewReplicaSet = "FoundNewReplicaSet";
    public const string ReplicaSetUpdated = "ReplicaSetUpdated";
    public const string NewReplicaSetAvailable = "NewReplicaSetAvailable";
    public const string ProgressDeadlineExceeded = "ProgressDeadlineExceeded";
    public const string DeploymentPaused = "DeploymentPaused";
    public const string DeploymentResumed = "DeploymentResumed";
    private const string ReplicaFailureType = "ReplicaFailure";

    /// <param name="planned">spec.replicas of each ReplicaSet after this sync's scaling, by name.</param>
    public static V1DeploymentStatus Calculate(V1Deployment d, V1ReplicaSet? newRs, IReadOnlyList<V1ReplicaSet> all,
        IReadOnlyDictionary<string, int> planned, bool newRsJustCreated, DateTime now)
    {
        var desired = RolloutPlanner.DesiredReplicas(d);
        var old = d.Status;
        var available = all.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        var total = all.Sum(rs => planned.TryGetValue(rs.Metadata.Name, out var p) ? p : rs.Spec?.Replicas ?? 0);
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = d.Metadata.Generation,
            Replicas = all.Sum(rs => rs.Status?.Replicas ?? 0),
            UpdatedReplicas = newRs?.Status?.Replicas ?? 0,
            ReadyReplicas = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(0, total - available),
            CollisionCount = old?.CollisionCount,
            Conditions = old?.Conditions?.Select(c => c).ToList() ?? new List<V1DeploymentCondition>(),
        };

        var (_, maxUnavailable) = RolloutPlanner.Bounds(d);
        SetCondition(status, available >= desired - maxUnavailable
            ? Condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now)
            : Condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now));

        // kubectl rollout pause|resume: Progressing turns Unknown while paused, and the deadline restarts on resume.
        var wasPaused = Find(status, "Progressing")?.Reason == DeploymentPaused;
        if (d.Spec?.Paused == true)
        {
            if (!wasPaused) SetCondition(status, Condition("Progressing", "Unknown", DeploymentPaused, "Deployment is paused", now));
        }
        else if (wasPaused)
            SetCondition(status, Condition("Progressing", "Unknown", DeploymentResumed, "Deployment is resumed", now));
        else if (newRs is not null)
        {
            var name = newRs.Metadata.Name;
            V1DeploymentCondition? progressing = null;
            if (newRsJustCreated)
                progressing = Condition("Progressing", "True", NewReplicaSetCreated, $"Created new replica set \"{name}\"", now);
            else if (IsComplete(d, status))
                progressing = Condition("Progressing", "True", NewReplicaSetAvailable, $"ReplicaSet \"{name}\" has successfully progressed.", now);
            else if (HasProgressed(old, status) || Find(status, "Progressing") is null)
                progressing = Condition("Progressing", "True", ReplicaSetUpdated, $"ReplicaSet \"{name}\" is progressing.", now);
            else if (TimedOut(d, Find(status, "Progressing"), now))
                progressing = Condition("Progressing", "False", ProgressDeadlineExceeded, $"ReplicaSet \"{name}\" has timed out progressing.", now);
            if (progressing is not null) SetCondition(status, progressing, refreshUpdateTime: progressing.Reason == ReplicaSetUpdated);
        }

        // syncRolloutStatus moves a ReplicaSet's failure (quota, admission) into the Deployment, the new one's first;
        // a paused Deployment keeps what it had, as Kubernetes' sync path does not touch it.
        if (d.Spec?.Paused != true)
        {
            var failure = new[] { newRs }.Concat(all.Where(rs => rs != newRs))
                .Select(rs => rs?.Status?.Conditions?.FirstOrDefault(c => c.Type == ReplicaFailureType && c.Status == "True"))
                .FirstOrDefault(c => c is not null);
            if (failure is not null)
                SetCondition(status, new V1DeploymentCondition
                {
                    Type = ReplicaFailureType, Status = failure.Status, Reason = failure.Reason, Message = failure.Message,
                    LastTransitionTime = failure.LastTransitionTime ?? now, LastUpdateTime = failure.LastTransitionTime ?? now,
                });
            else
                status.Conditions.Remove(Find(status, ReplicaFailureType)!);
        }

        // Kubernetes lists Available before Progressing.
        status.Conditions = status.Conditions.OrderBy(c => c.Type == "Available" ? 0 : c.Type == "Progressing" ? 1 : 2).ToList();
        return status;
    }

    /// <summary>Kubernetes' DeploymentComplete: every replica updated and available, and no old ones left.</summary>
    public static bool IsComplete(V1Deployment d, V1DeploymentStatus s)
    {
        var desired = RolloutPlanner.DesiredReplicas(d);
        return s.UpdatedReplicas == desired && s.Replicas == desired && s.AvailableReplicas == desired &&
               s.ObservedGeneration >= d.Metadata.Generation;
    }

    /// <summary>Kubernetes' DeploymentTimedOut: no progress for spec.progressDeadlineSeconds (default 600) since
    /// the Progressing condition last moved, unless the rollout already completed or was already found timed out.</summary>
    public static bool TimedOut(V1Deployment d, V1DeploymentCondition? progressing, DateTime now) =>
        progressing is not null && progressing.Reason != NewReplicaSetAvailable && progressing.Reason != DeploymentPaused &&
        (progressing.Reason == ProgressDeadlineExceeded ||
         now - (progressing.LastUpdateTime ?? now) > ProgressDeadline(d));

    /// <summary>How long from the last progress until the deadline passes, or null when no deadline can pass.</summary>
    public static TimeSpan? UntilDeadline(V1Deployment d, V1DeploymentStatus s, DateTime now)
    {
        var progressing = Find(s, "Progressing");
        if (progressing is null || progressing.Reason is NewReplicaSetAvailable or ProgressDeadlineExceeded or DeploymentPaused) return null;
        var left = (progressing.LastUpdateTime ?? now) + ProgressDeadline(d) - now;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static TimeSpan ProgressDeadline(V1Deployment d) => TimeSpan.FromSeconds(d.Spec?.ProgressDeadlineSeconds ?? 600);

    private static bool HasProgressed(V1DeploymentStatus? old, V1DeploymentStatus now) =>
        old is null || now.UpdatedReplicas > old.UpdatedReplicas || now.Replicas - now.UpdatedReplicas < old.Replicas - old.UpdatedReplicas
        || now.ReadyReplicas > old.ReadyReplicas || now.AvailableReplicas > old.AvailableReplicas;

    private static V1DeploymentCondition Condition(string type, string status, string reason, string message, DateTime now) => new()
    {
        Type = type, Status = status, Reason = reason, Message = message, LastUpdateTime = now, LastTransitionTime = now,
    };

    private static V1DeploymentCondition? Find(V1DeploymentStatus s, string type) => s.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>Kubernetes' SetDeploymentCondition: same status and reason → unchanged (unless the update time
    /// should move, as for a rollout making progress); same status → transition time kept.</summary>
    private static void SetCondition(V1DeploymentStatus s, V1DeploymentCondition condition, bool refreshUpdateTime = false)
    {
        var current = Find(s, condition.Type);
        if (current is not null && current.Status == condition.Status && current.Reason == condition.Reason &&
            current.Message == condition.Message && !refreshUpdateTime)
            return;
        if (current is not null && current.Status == condition.Status) condition.LastTransitionTime = current.LastTransitionTime;
        s.Conditions.Remove(current!);
        s.Conditions.Add(condition);
    }
}
