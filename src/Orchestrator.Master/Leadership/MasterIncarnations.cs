using Akka.Actor;

namespace Orchestrator.Master.Leadership;

/// <summary>How one incarnation of the master (its web host and actor system) ended.</summary>
/// <param name="ExitCode">The process's exit code if no incarnation follows.</param>
/// <param name="Rejoin">Whether a new incarnation should follow: several masters, and the actor system ended for a
/// cluster reason (<see cref="MasterIncarnations.EndedForCluster"/>) while nothing asked the process to stop.</param>
/// <param name="Why">What ended it, for the log line.</param>
internal sealed record IncarnationEnd(int ExitCode, bool Rejoin, string Why);

/// <summary>
/// Runs the master again, in the same process, when the cluster took it out: one of several masters that was downed
/// (a false failure detection, a pause, a partition on the minority side) or whose control plane singleton stopped can
/// never rejoin with the same actor system, and before it stopped for good and stayed down until an operator started it
/// again (issue #20's pause drill: one false detection took two healthy masters of three down for good). Each
/// incarnation is a new web host with a new actor system (a new Akka UID) that joins as the youngest master, a
/// follower, as the node's NodeIncarnations does; between them the API does not listen, so clients and balancers go
/// to the other masters rather than read a replica that no longer follows. A single master is never downed and is not
/// restarted. A signal (SIGTERM/SIGINT), the embedding's stop, a bad setting or a store error end the loop with that
/// incarnation's exit code.
/// </summary>
internal static class MasterIncarnations
{
    /// <summary>The wait before the next incarnation (the node's restart delay): the others have removed the old one by
    /// then, so the new one joins a cluster that has forgotten the old UID rather than racing its removal.</summary>
    public static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait: a master that is downed again and again (a machine too loaded to answer heartbeats
    /// in time) keeps trying, doubling the wait up to this, and logs each time.</summary>
    public static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);

    /// <summary>An incarnation that ran this long was healthy: the next wait is <see cref="RestartDelay"/> again.</summary>
    public static readonly TimeSpan SteadyAfter = TimeSpan.FromSeconds(60);

    /// <summary>Whether the actor system ended because of the cluster: downed (run-coordinated-shutdown-when-down), left
    /// (this master's control plane singleton stopped, <see cref="ControlPlaneSingleton"/>), or never let in. A signal's
    /// stop is <see cref="CoordinatedShutdown.ClrExitReason"/>, and a stop nobody asked for has no reason.</summary>
    public static bool EndedForCluster(CoordinatedShutdown.Reason? reason) =>
        reason is CoordinatedShutdown.ClusterDowningReason or CoordinatedShutdown.ClusterLeavingReason
            or CoordinatedShutdown.ClusterJoinUnsuccessfulReason;

    /// <summary>The cluster reason in words, for the log line.</summary>
    public static string Describe(CoordinatedShutdown.Reason? reason) => reason switch
    {
        CoordinatedShutdown.ClusterDowningReason => "downed by the cluster",
        CoordinatedShutdown.ClusterLeavingReason => "left the cluster: its control plane stopped",
        CoordinatedShutdown.ClusterJoinUnsuccessfulReason => "could not join the cluster",
        _ => reason?.ToString() ?? "no reason",
    };

    /// <summary>The wait after an incarnation that ran <paramref name="lived"/>, the previous wait having been
    /// <paramref name="previous"/> (null: none yet).</summary>
    public static TimeSpan NextDelay(TimeSpan? previous, TimeSpan lived) =>
        previous is not { } before || lived >= SteadyAfter ? RestartDelay
        : before * 2 < MaxRestartDelay ? before * 2 : MaxRestartDelay;

    /// <summary>Runs incarnation 1, 2, … with <paramref name="run"/> until one ends without <see cref="IncarnationEnd.Rejoin"/>
    /// (its exit code is returned) or <paramref name="stop"/> is cancelled while waiting (0). Each new incarnation is
    /// announced with one line through <paramref name="log"/>.</summary>
    public static async Task<int> RunAsync(Func<int, Task<IncarnationEnd>> run, Action<string> log, CancellationToken stop,
        TimeProvider? time = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        time ??= TimeProvider.System;
        delay ??= (wait, token) => Task.Delay(wait, time, token);
        TimeSpan? wait = null;
        for (var incarnation = 1; ; incarnation++)
        {
            var started = time.GetTimestamp();
            var end = await run(incarnation);
            if (!end.Rejoin || stop.IsCancellationRequested) return end.ExitCode;
            var lived = time.GetElapsedTime(started);
            wait = NextDelay(wait, lived);
            log($"This master's actor system ended ({end.Why}) after {lived.TotalSeconds:0.0} s; a new incarnation " +
                $"({incarnation + 1}) starts in {wait.Value.TotalSeconds:0} s and joins the other masters as a follower");
            try
            {
                await delay(wait.Value, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return 0; // SIGTERM/SIGINT (or the embedding's stop) while waiting: the process stops, as it would have
            }
        }
    }
}
