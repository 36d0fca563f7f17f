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

    /// <summary>With several masters the control plane moves only once its master is downed and removed, so these
    /// times add up to the failover of writes (issue #20: within 15 s). Measured on a loaded 2-core lab with the
    /// single-master values plus Akka's default removal margin (= stable-after): unreachable 3.6 s after a SIGKILL,
    /// downed 7 s later, removed 0.9 s later, the singleton started 7 s after that, the store recovered in 3 s: the
    /// first write 22.5 s after the kill. The cluster is small (three or five masters and a few nodes on one network),
    /// so gossip agrees on reachability within a second or two and 4 s of stable reachability is enough to decide; a
    /// member is downed only after about 6 s of silence (a GC pause or a busy machine is far shorter).</summary>
    public static readonly TimeSpan MultiMasterStableAfter = TimeSpan.FromSeconds(4);

    /// <summary>See <see cref="MultiMasterStableAfter"/>.</summary>
    public static readonly TimeSpan MultiMasterHeartbeatPause = TimeSpan.FromSeconds(2);

    /// <summary>How long a new singleton waits after the old one's master was removed (Akka's default is
    /// stable-after). It would give a downed minority time to stop its singleton; here a killed master has nothing to
    /// stop, and a stale one that still runs cannot write: the next journal sequence number is taken by the new
    /// store's recovery probe (the journal's primary key), so a write of the old one fails and is never acknowledged.</summary>
    public static readonly TimeSpan MultiMasterDownRemovalMargin = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the leader of a single master's cluster moves members on (Akka's default: 1 s; every member, the
    /// nodes too, has the setting, since the leader is whichever Up member has the lowest address). A member that
    /// leaves (deploy/down.sh's SIGTERM) is Leaving until the leader's next tick moves it to Exiting, and a joining node
    /// Joining until one moves it to Up: issue 19 measured 0.6-0.9 s of each process's 1 s shutdown waiting for that tick.
    /// A tick with nothing to move only checks the gossip's convergence (a handful of members).</summary>
    public static readonly TimeSpan SingleMasterLeaderActionsInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often each end of an association sends Akka.Remote's transport heartbeat (Akka's default: 4 s; the
    /// failure detector it feeds keeps its 120 s acceptable pause). Issue 19: a node's first association to the master
    /// stalled about 5 s in many starts (most of them with ReadyToRun builds). Captured on the cluster port: TCP and the
    /// TLS handshake done in 0.2-0.4 s, the node's Associate sent 15 ms after the master's last handshake record, acked by
    /// the master's kernel, and answered only when the node's next record arrived, its first transport heartbeat exactly
    /// 4.0 s later. The master's TLS handler (DotNetty's, as far as its decompiled code and the capture tell) leaves
    /// application data that arrives while it completes its side of the handshake unread until the next read on the
    /// channel; the heartbeat is the only thing the node sends before the association is open, so its interval bounds
    /// that stall. Both ends send it (the same can happen to the
    /// master's answer on the node's side); two 37-byte records a second each way per association.</summary>
    public static readonly TimeSpan TransportHeartbeatInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The membership of a cluster with <paramref name="masters"/> masters (more than one: keep-majority).</summary>
    public static string ForMasters(int masters) => masters > 1
        ? Build(MultiMasterStableAfter, MultiMasterHeartbeatPause, multiMaster: true)
        : Build(DefaultStableAfter, DefaultHeartbeatPause);

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
          {{(multiMaster ? $"down-removal-margin = {Millis(MultiMasterDownRemovalMargin)}" : "")}}
          {{(multiMaster ? "leader-actions-interval = 500ms # a downed master is removed (and the control plane moves) sooner"
              : $"leader-actions-interval = {Millis(SingleMasterLeaderActionsInterval)}")}}
        }
        akka.remote.transport-failure-detector.heartbeat-interval = {{Millis(TransportHeartbeatInterval)}}
        """;

    /// <summary>Parses a "--cluster-…" seconds value (e.g. "7" or "2.5"); null or empty gives the default.</summary>
    public static TimeSpan Seconds(string? value, TimeSpan fallback, string option) =>
        string.IsNullOrEmpty(value) ? fallback
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? TimeSpan.FromSeconds(s)
        : throw new ArgumentException($"--{option} must be a positive number of seconds");

    private static string Millis(TimeSpan value) => $"{(long)value.TotalMilliseconds}ms";
}
