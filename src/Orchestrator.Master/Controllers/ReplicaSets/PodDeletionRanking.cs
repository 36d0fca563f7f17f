using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Controllers.ReplicaSets;

/// <summary>
/// Which surplus pods go first, in Kubernetes' order (controller.ActivePods): unscheduled before scheduled;
/// Pending before Unknown before Running; not ready before ready; ready for less time before longer; more
/// restarts before fewer; younger before older. The comparer sorts the first to delete first.
/// </summary>
internal sealed class PodDeletionRanking : IComparer<V1Pod>
{
    public static readonly PodDeletionRanking Instance = new();

    public int Compare(V1Pod? x, V1Pod? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;

        var c = PodFacts.IsScheduled(x).CompareTo(PodFacts.IsScheduled(y)); // false (unscheduled) first
        if (c != 0) return c;
        c = PhaseRank(x).CompareTo(PhaseRank(y));
        if (c != 0) return c;
        c = PodFacts.IsReady(x).CompareTo(PodFacts.IsReady(y)); // not ready first
        if (c != 0) return c;
        if (PodFacts.IsReady(x) && PodFacts.IsReady(y))
        {
            // Ready for less time first: the later transition goes first.
            c = Nullable.Compare(ReadySince(y), ReadySince(x));
            if (c != 0) return c;
        }
        c = PodFacts.RestartCount(y).CompareTo(PodFacts.RestartCount(x)); // more restarts first
        if (c != 0) return c;
        c = Nullable.Compare(y.Metadata.CreationTimestamp, x.Metadata.CreationTimestamp); // younger first
        if (c != 0) return c;
        return string.CompareOrdinal(x.Metadata.Name, y.Metadata.Name);
    }

    private static int PhaseRank(V1Pod pod) => pod.Status?.Phase switch
    {
        "Pending" or null or "" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    };

    private static DateTime? ReadySince(V1Pod pod) => PodFacts.Condition(pod, "Ready")?.LastTransitionTime;

    /// <summary>The <paramref name="count"/> pods to delete first.</summary>
    public static IReadOnlyList<V1Pod> PickForDeletion(IEnumerable<V1Pod> pods, int count) =>
        pods.Order(Instance).Take(count).ToList();
}
