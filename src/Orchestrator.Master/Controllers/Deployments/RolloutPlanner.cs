using k8s.Models;

namespace Orchestrator.Master.Controllers.Deployments;

/// <summary>Replica counts a sync wants: the new ReplicaSet's, and each old ReplicaSet's that should change.</summary>
public sealed record RolloutPlan(int NewReplicas, IReadOnlyDictionary<string, int> OldReplicas);

/// <summary>
/// How many replicas each of a Deployment's ReplicaSets should have right now, following Kubernetes'
/// rolling.go and recreate.go: RollingUpdate grows the new ReplicaSet within maxSurge and shrinks old ones
/// (unhealthy replicas first, then oldest first) while keeping availability above replicas - maxUnavailable;
/// Recreate scales old ones to zero and the new one up only when no old pod is left. Pure.
/// </summary>
public static class RolloutPlanner
{
    public static int DesiredReplicas(V1Deployment d) => d.Spec?.Replicas ?? 1;

    public static bool IsRecreate(V1Deployment d) => d.Spec?.Strategy?.Type == "Recreate";

    /// <summary>maxSurge (rounded up) and maxUnavailable (rounded down) as pod counts; both zero means one unavailable.
    /// Recreate (and zero replicas) allow no unavailability, as in Kubernetes' MaxUnavailable.</summary>
    public static (int MaxSurge, int MaxUnavailable) Bounds(V1Deployment d)
    {
        var desired = DesiredReplicas(d);
        if (IsRecreate(d) || desired == 0) return (0, 0);
        var surge = Scaled(d.Spec?.Strategy?.RollingUpdate?.MaxSurge, desired, roundUp: true);
        var unavailable = Scaled(d.Spec?.Strategy?.RollingUpdate?.MaxUnavailable, desired, roundUp: false);
        if (surge == 0 && unavailable == 0) unavailable = 1;
        return (surge, Math.Min(unavailable, desired));
    }

    /// <summary>An IntOrString bound: an integer, or a percentage of <paramref name="total"/> (default 25%).</summary>
    public static int Scaled(IntOrString? value, int total, bool roundUp)
    {
        var text = value?.Value ?? "25%";
        if (!text.EndsWith('%')) return int.TryParse(text, out var n) ? n : 0;
        if (!int.TryParse(text[..^1], out var percent)) return 0;
        var exact = percent * (double)total / 100;
        return (int)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
    }

    public static RolloutPlan Plan(V1Deployment d, V1ReplicaSet? newRs, IReadOnlyList<V1ReplicaSet> olds)
    {
        var desired = DesiredReplicas(d);
        var oldReplicas = olds.ToDictionary(rs => rs.Metadata.Name, Replicas);
        var newReplicas = newRs is null ? 0 : Replicas(newRs);

        if (IsRecreate(d))
        {
            foreach (var rs in olds) oldReplicas[rs.Metadata.Name] = 0;
            var oldPodsLeft = olds.Any(rs => Replicas(rs) > 0 || (rs.Status?.Replicas ?? 0) > 0);
            return new RolloutPlan(oldPodsLeft ? newReplicas : desired, Changed(olds, oldReplicas));
        }

        var (maxSurge, maxUnavailable) = Bounds(d);

        // The new ReplicaSet: down to desired at once, up only within the surge budget.
        if (newReplicas > desired) newReplicas = desired;
        else if (newReplicas < desired)
        {
            var current = newReplicas + oldReplicas.Values.Sum();
            var maxTotal = desired + maxSurge;
            if (current < maxTotal) newReplicas += Math.Min(maxTotal - current, desired - newReplicas);
        }

        // Old ReplicaSets: as far down as availability allows.
        if (oldReplicas.Values.Sum() > 0)
        {
            var all = newReplicas + oldReplicas.Values.Sum();
            var minAvailable = desired - maxUnavailable;
            var newUnavailable = newReplicas - (newRs?.Status?.AvailableReplicas ?? 0);
            var maxScaledDown = all - minAvailable - newUnavailable;
            var oldestFirst = olds.OrderBy(rs => rs.Metadata.CreationTimestamp ?? DateTime.MinValue)
                .ThenBy(rs => rs.Metadata.Name, StringComparer.Ordinal).ToList();
            if (maxScaledDown > 0)
            {
                // First the replicas that are not available anyway.
                var cleaned = 0;
                foreach (var rs in oldestFirst)
                {
                    if (cleaned >= maxScaledDown) break;
                    var name = rs.Metadata.Name;
                    var unhealthy = oldReplicas[name] - (rs.Status?.AvailableReplicas ?? 0);
                    if (unhealthy <= 0) continue;
                    var down = Math.Min(maxScaledDown - cleaned, unhealthy);
                    oldReplicas[name] -= down;
                    cleaned += down;
                }

                // Then available ones, while more than minAvailable are available.
                var available = (newRs?.Status?.AvailableReplicas ?? 0) + olds.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
                var budget = available - minAvailable;
                foreach (var rs in oldestFirst)
                {
                    if (budget <= 0) break;
                    var name = rs.Metadata.Name;
                    if (oldReplicas[name] == 0) continue;
                    var down = Math.Min(oldReplicas[name], budget);
                    oldReplicas[name] -= down;
                    budget -= down;
                }
            }
        }

        return new RolloutPlan(newReplicas, Changed(olds, oldReplicas));
    }

    private static int Replicas(V1ReplicaSet rs) => rs.Spec?.Replicas ?? 0;

    private static IReadOnlyDictionary<string, int> Changed(IReadOnlyList<V1ReplicaSet> olds, Dictionary<string, int> planned) =>
        olds.Where(rs => planned[rs.Metadata.Name] != Replicas(rs)).ToDictionary(rs => rs.Metadata.Name, rs => planned[rs.Metadata.Name]);
}
