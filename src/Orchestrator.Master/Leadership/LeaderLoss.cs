using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;

namespace Orchestrator.Master.Leadership;

/// <summary>
/// One cancellation per master that requests are forwarded to, cancelled when the cluster marks that master unreachable
/// or removes it: a leader that was paused (SIGSTOP) or cut off mid-request never answers, and the requests
/// <see cref="LeaderForwarding"/> sent it would otherwise wait as long as their clients do. A master seen again (or
/// a new leader) gets a fresh cancellation at its next forwarded request.
/// </summary>
internal sealed class LeaderLoss
{
    private readonly ConcurrentDictionary<Address, CancellationTokenSource> _leaders = new();

    /// <summary>Cancelled when <paramref name="leader"/> is lost.</summary>
    public CancellationToken Token(Address leader) => _leaders.GetOrAdd(leader, _ => new CancellationTokenSource()).Token;

    /// <summary>Cancels every request forwarded to <paramref name="leader"/> so far.</summary>
    public void Lost(Address leader)
    {
        // not disposed: a request may still be registering on its token (a cancelled source holds no timer)
        if (_leaders.TryRemove(leader, out var cancellation)) cancellation.Cancel();
    }
}

/// <summary>Tells <see cref="LeaderLoss"/> which members the cluster has marked unreachable or removed. It owns nothing
/// else and never decides who leads.</summary>
internal sealed class LeaderLossWatcher : ReceiveActor
{
    public LeaderLossWatcher(LeaderLoss loss)
    {
        Receive<ClusterEvent.UnreachableMember>(m => loss.Lost(m.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(m => loss.Lost(m.Member.Address));
        Receive<ClusterEvent.CurrentClusterState>(_ => { }); // the snapshot at subscription: nothing in flight yet
    }

    public static Props Props(LeaderLoss loss) => Akka.Actor.Props.Create(() => new LeaderLossWatcher(loss));

    protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
        typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
