using k8s.Models;

namespace Orchestrator.Master.Controllers.Deployments;

/// <summary>Replica counts a sync wants: the new ReplicaSet's, and each old ReplicaSet's that should change.</summary>
internal sealed record RolloutPlan(int NewReplicas, IReadOnlyDictionary<string, int> OldReplicas);

/// <summary>
/// How many replicas each of a Deployment's ReplicaSets should have right now, following Kubernetes'
/// rolling.go and recreate.go: RollingUpdate grows the new ReplicaSet within maxSurge and shrinks old ones
/// (unhealthy replicas first, then oldest first) while keeping availability above replicas - maxUnavailable;
/// Recreate scales old ones to zero and the new one up only when no old pod is left. Pure.
/// </summary>
internal static class RolloutPlanner
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
            // Old pods still there count until their ReplicaSet reports them gone (Kubernetes counts spec only, which
            // lets the new pod appear before the old one is deleted and the pod count pass replicas + maxSurge).
            var current = newReplicas + olds.Sum(rs => Math.Max(Replicas(rs), rs.Status?.Replicas ?? 0));
            var maxTotal = desired + maxSurge;
            if (current < maxTotal) newReplicas += Math.Min(maxTotal - current, desired - newReplicas);
        }

        // Old ReplicaSets: as far down as availability allows.
        if (oldReplicas.Values.Sum() > 0)
        {
            var all = newReplicas + oldReplicas.Values.Sum();
            var minAvailable = desired - maxUnavailable;
            var newUnavailable = newReplicas - (newRs is null ? 0 : Available(newRs));
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
                    var unhealthy = oldReplicas[name] - Available(rs);
                    if (unhealthy <= 0) continue;
                    var down = Math.Min(maxScaledDown - cleaned, unhealthy);
                    oldReplicas[name] -= down;
                    cleaned += down;
                }

                // Then available ones, while more than minAvailable are available.
                var available = (newRs is null ? 0 : Available(newRs)) + olds.Sum(Available);
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

    // A ReplicaSet being scaled down still reports the pods it is about to delete as available: count at most its
    // spec, or two syncs in a row would spend the same availability budget twice.
    private static int Available(V1ReplicaSet rs) => Math.Min(rs.Status?.AvailableReplicas ?? 0, Replicas(rs));

    private static IReadOnlyDictionary<string, int> Changed(IReadOnlyList<V1ReplicaSet> olds, Dictionary<string, int> planned) =>
        olds.Where(rs => planned[rs.Metadata.Name] != Replicas(rs)).ToDictionary(rs => rs.Metadata.Name, rs => planned[rs.Metadata.Name]);
}
