using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Orchestrator.Master.Leadership;
using Xunit;

namespace Orchestrator.Master.Tests.Leadership;

/// <summary>A master of several that the cluster took out starts a new incarnation in the same process, waiting longer
/// each time it is taken out again soon after it started; a signal, a stop or an error ends the process as before.</summary>
public sealed class MasterIncarnationsTests
{
    private static readonly IncarnationEnd Downed = new(0, Rejoin: true, "downed by the cluster");

    /// <summary>Time that moves only when a test moves it.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Now;
        public void Advance(TimeSpan by) => Now += by.Ticks;
    }

    [Fact]
    public async Task A_downed_incarnation_is_followed_by_a_new_one_until_one_ends_otherwise()
    {
        var ends = new Queue<IncarnationEnd>([Downed, Downed, new(0, Rejoin: false, "")]);
        var started = new List<int>();
        var lines = new List<string>();
        var waits = new List<TimeSpan>();
        var code = await MasterIncarnations.RunAsync(n =>
        {
            started.Add(n);
            return Task.FromResult(ends.Dequeue());
        }, lines.Add, CancellationToken.None, new ManualTime(), (wait, _) =>
        {
            waits.Add(wait);
            return Task.CompletedTask;
        });

        Assert.Equal(0, code);
        Assert.Equal([1, 2, 3], started);
        Assert.Equal(2, lines.Count);
        Assert.Contains("(downed by the cluster)", lines[0]);
        Assert.Contains("a new incarnation (2) starts in 2 s", lines[0]);
        Assert.Contains("a new incarnation (3) starts in 4 s", lines[1]);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], waits);
    }

    [Fact]
    public async Task An_incarnation_that_ends_without_rejoining_gives_the_process_its_exit_code()
    {
        var lines = new List<string>();
        var code = await MasterIncarnations.RunAsync(_ => Task.FromResult(new IncarnationEnd(2, Rejoin: false, "")), lines.Add,
            CancellationToken.None, new ManualTime(), (_, _) => throw new InvalidOperationException("no wait expected"));

        Assert.Equal(2, code);
        Assert.Empty(lines);
    }

    [Fact]
    public async Task A_signal_during_the_wait_ends_the_process_without_another_incarnation()
    {
        using var stop = new CancellationTokenSource();
        var started = 0;
        var code = await MasterIncarnations.RunAsync(_ =>
        {
            started++;
            return Task.FromResult(Downed);
        }, _ => { }, stop.Token, new ManualTime(), async (wait, token) =>
        {
            await stop.CancelAsync(); // SIGTERM arrives while the next incarnation waits
            token.ThrowIfCancellationRequested();
        });

        Assert.Equal(0, code);
        Assert.Equal(1, started);
    }

    [Fact]
    public async Task A_signal_while_an_incarnation_stops_starts_no_other()
    {
        using var stop = new CancellationTokenSource();
        var started = 0;
        var code = await MasterIncarnations.RunAsync(async _ =>
        {
            started++;
            await stop.CancelAsync(); // the host was going down for the cluster when SIGTERM came
            return Downed;
        }, _ => { }, stop.Token, new ManualTime(), (_, _) => throw new InvalidOperationException("no wait expected"));

        Assert.Equal(0, code);
        Assert.Equal(1, started);
    }

    [Fact]
    public async Task An_incarnation_that_ran_steadily_is_followed_after_the_shortest_wait_again()
    {
        var time = new ManualTime();
        var lived = new Queue<TimeSpan>([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), TimeSpan.Zero]);
        var waits = new List<TimeSpan>();
        var incarnations = 0;
        await MasterIncarnations.RunAsync(_ =>
        {
            time.Advance(lived.Dequeue());
            return Task.FromResult(++incarnations < 4 ? Downed : new IncarnationEnd(0, Rejoin: false, ""));
        }, _ => { }, CancellationToken.None, time, (wait, _) =>
        {
            waits.Add(wait);
            return Task.CompletedTask;
        });

        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2)], waits);
    }

    [Fact]
    public void The_wait_doubles_up_to_its_bound_while_incarnations_end_soon()
    {
        TimeSpan? wait = null;
        var waits = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            wait = MasterIncarnations.NextDelay(wait, TimeSpan.FromSeconds(5));
            waits.Add(wait.Value.TotalSeconds);
        }
        Assert.Equal([2, 4, 8, 16, 30, 30, 30], waits);
    }

    [Fact]
    public void Only_the_cluster_taking_the_master_out_counts_as_a_cluster_reason()
    {
        Assert.True(MasterIncarnations.EndedForCluster(CoordinatedShutdown.ClusterDowningReason.Instance));
        Assert.True(MasterIncarnations.EndedForCluster(CoordinatedShutdown.ClusterLeavingReason.Instance));
        Assert.True(MasterIncarnations.EndedForCluster(CoordinatedShutdown.ClusterJoinUnsuccessfulReason.Instance));
        Assert.False(MasterIncarnations.EndedForCluster(CoordinatedShutdown.ClrExitReason.Instance));
        Assert.False(MasterIncarnations.EndedForCluster(CoordinatedShutdown.UnknownReason.Instance));
        Assert.False(MasterIncarnations.EndedForCluster(null));
    }

    private static ActorSystem ClusterMember() => ActorSystem.Create("orchestrator", ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.loglevel = WARNING
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.cluster.run-coordinated-shutdown-when-down = on
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """));

    private static async Task Up(ActorSystem system)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cluster = Cluster.Get(system);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_downed_member_ends_its_actor_system_for_a_cluster_reason()
    {
        var system = ClusterMember();
        try
        {
            await Up(system);
            var cluster = Cluster.Get(system);
            cluster.Down(cluster.SelfAddress);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(MasterIncarnations.EndedForCluster(CoordinatedShutdown.Get(system).ShutdownReason));
            Assert.Equal("downed by the cluster", MasterIncarnations.Describe(CoordinatedShutdown.Get(system).ShutdownReason));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_member_stopped_by_a_signal_does_not_end_for_a_cluster_reason()
    {
        var system = ClusterMember();
        try
        {
            await Up(system);
            // what the host's stop (SIGTERM: Akka.Hosting's StopAsync) runs
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.False(MasterIncarnations.EndedForCluster(CoordinatedShutdown.Get(system).ShutdownReason));
        }
        finally
        {
            await system.Terminate();
        }
    }
}
