using k8s.Models;

namespace Orchestrator.Master.Controllers.NodeLifecycle;

/// <summary>kube's zone states (stateInitial is a zone seen but not judged yet).</summary>
internal enum ZoneState { Initial, Normal, PartialDisruption, FullDisruption }

/// <summary>What <see cref="ZoneTainting.HandleDisruption"/> changed beyond the zones' rates.</summary>
internal enum DisruptionChange { None, EnteredFullDisruption, ExitedFullDisruption }

/// <summary>
/// The node lifecycle controller's zones (kube's zoneStates, zoneNoExecuteTainter and handleDisruption): each zone
/// (topology.kubernetes.io/region and /zone; nodes without them are one zone) has a <see cref="RateLimitedTimedQueue"/>
/// of NotReady nodes waiting for their NoExecute taint, and a state from its nodes' Ready conditions
/// (<see cref="ComputeZoneState"/>) that sets its rate: Normal the eviction rate; PartialDisruption the secondary rate
/// in a zone larger than the large-cluster threshold, else 0 (small zones stop); FullDisruption the eviction rate again
/// (the zone is down, its pods are better elsewhere) — unless every zone is fully disrupted: then the master is likely
/// the one cut off, every rate goes to 0 and the controller takes the NoExecute taints off every node.
/// Pure state, no actor: the controller calls it and writes what it decides.
/// </summary>
internal sealed class ZoneTainting(NodeEvictionSettings settings, Func<DateTime> clock)
{
    /// <summary>The label that keeps a node out of the zones' states (kube's labelNodeDisruptionExclusion).</summary>
    public const string ExcludeDisruptionLabel = "node.kubernetes.io/exclude-disruption";

    private readonly Dictionary<string, RateLimitedTimedQueue> _tainters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ZoneState> _states = new(StringComparer.Ordinal);

    public NodeEvictionSettings Settings => settings;
    public IReadOnlyDictionary<string, ZoneState> States => _states;

    /// <summary>Every zone fully disrupted (kube's "master disruption mode"): no NoExecute taint is added or kept.</summary>
    public bool InFullDisruptionMode => _states.Count > 0 && _states.Values.All(s => s == ZoneState.FullDisruption);

    /// <summary>The zone's queue (made with the eviction rate the first time the zone is seen, as addPodEvictorForNewZone).</summary>
    public RateLimitedTimedQueue Tainter(string zone)
    {
        if (!_tainters.TryGetValue(zone, out var queue))
            _tainters[zone] = queue = new RateLimitedTimedQueue(settings.EvictionRate, clock);
        if (!_states.ContainsKey(zone)) _states[zone] = ZoneState.Initial;
        return queue;
    }

    /// <summary>kube's GetZoneKey: region and zone (the GA labels, else the beta failure-domain ones); "" for neither.</summary>
    public static string ZoneKey(V1Node node)
    {
        var labels = node.Metadata?.Labels;
        if (labels is null) return "";
        var zone = labels.TryGetValue("topology.kubernetes.io/zone", out var z) ? z : labels.TryGetValue("failure-domain.beta.kubernetes.io/zone", out z) ? z : "";
        var region = labels.TryGetValue("topology.kubernetes.io/region", out var r) ? r : labels.TryGetValue("failure-domain.beta.kubernetes.io/region", out r) ? r : "";
        return region == "" && zone == "" ? "" : region + ":\0:" + zone;
    }

    /// <summary>kube's ComputeZoneState over the zone's nodes' Ready statuses (null: no Ready condition, counted not
    /// ready): no node ready → FullDisruption; more than 2 not ready and at least the threshold of them → PartialDisruption.</summary>
    public ZoneState ComputeZoneState(IReadOnlyCollection<string?> readyStatuses)
    {
        var ready = readyStatuses.Count(s => s == "True");
        var notReady = readyStatuses.Count - ready;
        if (ready == 0 && notReady > 0) return ZoneState.FullDisruption;
        if (notReady > 2 && (float)notReady / (notReady + ready) >= settings.UnhealthyZoneThreshold) return ZoneState.PartialDisruption;
        return ZoneState.Normal;
    }

    /// <summary>kube's markNodeForTainting: queues the node in its zone; <paramref name="tainted"/> false (it lacks the taint
    /// its status calls for) takes it out of the set first, so a node whose taint went is queued again.</summary>
    public bool MarkForTainting(string zone, string node, bool tainted)
    {
        var queue = Tainter(zone);
        if (!tainted) queue.Remove(node);
        return queue.Add(node);
    }

    /// <summary>kube's markNodeAsReachable (the queue part): the node leaves its zone's queue and set.</summary>
    public bool MarkReachable(string zone, string node) => _tainters.TryGetValue(zone, out var queue) && queue.Remove(node);

    /// <summary>kube's handleDisruption over the zones' Ready statuses (nodes with the exclusion label left out): new
    /// zones' and changed zones' rates; entering full disruption everywhere sets every rate to 0 and empties the queues
    /// (the caller removes the taints), leaving it sets every zone's rate from its state.</summary>
    public DisruptionChange HandleDisruption(IReadOnlyDictionary<string, List<string?>> zones)
    {
        var newStates = new Dictionary<string, ZoneState>(StringComparer.Ordinal);
        var allAreFullyDisrupted = true;
        foreach (var (zone, statuses) in zones)
        {
            var state = ComputeZoneState(statuses);
            if (state != ZoneState.FullDisruption) allAreFullyDisrupted = false;
            newStates[zone] = state;
            Tainter(zone);
        }
        foreach (var gone in _states.Keys.Where(z => !zones.ContainsKey(z)).ToList()) _states.Remove(gone);
        var allWereFullyDisrupted = _states.Values.All(s => s == ZoneState.FullDisruption);
        if (allAreFullyDisrupted && allWereFullyDisrupted) return DisruptionChange.None;
        if (allAreFullyDisrupted)
        {
            foreach (var zone in _states.Keys.ToList())
            {
                _tainters[zone].SwapLimiter(0);
                _tainters[zone].Clear();
                _states[zone] = ZoneState.FullDisruption;
            }
            return DisruptionChange.EnteredFullDisruption;
        }
        var exited = allWereFullyDisrupted;
        foreach (var zone in _states.Keys.ToList())
        {
            if (!exited && _states[zone] == newStates[zone]) continue;
            SetLimiter(zone, zones[zone].Count, newStates[zone]);
            _states[zone] = newStates[zone];
        }
        return exited ? DisruptionChange.ExitedFullDisruption : DisruptionChange.None;
    }

    /// <summary>kube's setLimiterInZone with HealthyQPSFunc (full disruption) and ReducedQPSFunc (partial).</summary>
    private void SetLimiter(string zone, int zoneSize, ZoneState state)
    {
        var tainter = _tainters[zone];
        switch (state)
        {
            case ZoneState.Normal:
            case ZoneState.FullDisruption:
                tainter.SwapLimiter(settings.EvictionRate);
                break;
            case ZoneState.PartialDisruption:
                tainter.SwapLimiter(zoneSize > settings.LargeClusterThreshold ? settings.SecondaryEvictionRate : 0);
                break;
        }
    }

    /// <summary>kube's doNoExecuteTaintingPass: each zone's queue gives the nodes its rate lets through.</summary>
    public void Try(Func<string, (bool Done, TimeSpan Retry)> taint)
    {
        foreach (var queue in _tainters.Values) queue.Try(value => taint(value.Value));
    }

    /// <summary>When a zone's queue may give a node next; null when none will without a change.</summary>
    public DateTime? NextTry() => _tainters.Values.Select(q => q.NextTry()).Where(t => t is not null).Min();
}
