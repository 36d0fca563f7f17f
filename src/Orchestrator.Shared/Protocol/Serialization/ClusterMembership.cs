using System.Globalization;

namespace Orchestrator.Shared.Protocol.Serialization;

/// <summary>
/// Failure detection and downing for the master/node topology; both roles add <see cref="Hocon"/>.
/// Downing is Akka's split brain resolver with keep-oldest restricted to role "master": after a partition the side
/// that holds the master survives and every member on the other side downs itself (its actor system terminates and
/// orchestrator-node starts a new incarnation that rejoins and adopts its containers). down-if-alone and
/// down-all-when-unstable are off so that no decision ever downs the master: its process does not restart itself,
/// and it alone holds the cluster's state.
/// </summary>
public static class ClusterMembership
{
    /// <summary>How long reachability must stay unchanged before the resolver decides: long enough to ride out a GC
    /// pause or a busy machine, short enough that a dead node's pods are rescheduled promptly.</summary>
    public static readonly TimeSpan DefaultStableAfter = TimeSpan.FromSeconds(7);

    /// <summary>Heartbeats are sent every second; a member is unreachable after this long without one.</summary>
    public static readonly TimeSpan DefaultHeartbeatPause = TimeSpan.FromSeconds(3);

    public static string Hocon => Build(DefaultStableAfter, DefaultHeartbeatPause);

    /// <summary>The membership of a cluster with <paramref name="masters"/> masters (more than one: keep-majority).</summary>
    public static string ForMasters(int masters) => Build(DefaultStableAfter, DefaultHeartbeatPause, masters > 1);

    /// <summary>A killed member is downed about <paramref name="heartbeatPause"/> + <paramref name="stableAfter"/> after it died.</summary>
    /// <remarks><paramref name="multiMaster"/>: several masters (every member, masters and nodes, must be given the same), so the
    /// resolver keeps the side with the majority of the masters (keep-majority on role "master": nodes are not counted,
    /// and a lone master, or a master with only nodes, downs itself); the single-master default keeps the oldest.</remarks>
    public static string Build(TimeSpan stableAfter, TimeSpan heartbeatPause, bool multiMaster = false) => $$"""
        akka.cluster {
          downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
          split-brain-resolver {
            {{(multiMaster ? "active-strategy = keep-majority" : "active-strategy = keep-oldest")}}
            stable-after = {{Millis(stableAfter)}}
            down-all-when-unstable = off
            keep-oldest { down-if-alone = off, role = "{{NodeProtocolNames.MasterRole}}" }
            keep-majority { role = "{{NodeProtocolNames.MasterRole}}" }
          }
          failure-detector {
            heartbeat-interval = 1s
            acceptable-heartbeat-pause = {{Millis(heartbeatPause)}}
          }
          # a new incarnation of a node waiting for a restarted master retries its join sooner than the 10 s default
          retry-unsuccessful-join-after = 3s
          # a downed member stops its actor system (the node process then starts a new incarnation)
          run-coordinated-shutdown-when-down = on
        }
        """;

    /// <summary>Parses a "--cluster-…" seconds value (e.g. "7" or "2.5"); null or empty gives the default.</summary>
    public static TimeSpan Seconds(string? value, TimeSpan fallback, string option) =>
        string.IsNullOrEmpty(value) ? fallback
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? TimeSpan.FromSeconds(s)
        : throw new ArgumentException($"--{option} must be a positive number of seconds");

    private static string Millis(TimeSpan value) => $"{(long)value.TotalMilliseconds}ms";
}
