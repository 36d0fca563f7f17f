using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Akka.Hosting;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Leadership;

/// <summary>
/// The control plane (object store, custom resources, controllers, scheduler, NodeGateway) of a multi-master cluster,
/// as the cluster singleton that Akka.Cluster.Tools runs on the oldest master: it starts them all when it starts, on one
/// master at a time. They are top-level actors at their usual paths (nodes find the NodeGateway at /user/node-gateway,
/// the API finds the store in the ActorRegistry), not its children; so that they never outlive it beside a new
/// leader's, a master whose singleton stops ends its actor system, as a downed master does anyway (the process then
/// starts a new incarnation that rejoins as a follower: MasterIncarnations).
/// </summary>
internal sealed class ControlPlaneSingleton : ReceiveActor
{
    private readonly Action _start;
    private readonly MasterLeadership _leadership;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ControlPlaneSingleton(Action start, MasterLeadership leadership)
    {
        _start = start;
        _leadership = leadership;
    }

    public static Props Props(Action start, MasterLeadership leadership) =>
        Akka.Actor.Props.Create(() => new ControlPlaneSingleton(start, leadership));

    protected override void PreStart()
    {
        _log.Info("This master holds the control plane: starting the store (recovering its journal), controllers, scheduler and node gateway");
        _start();
        _leadership.HostsControlPlane = true;
    }

    protected override void PostStop()
    {
        _leadership.HostsControlPlane = false;
        _log.Warning("This master no longer holds the control plane; stopping the master");
        CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
    }
}

internal static class ControlPlaneHostingExtensions
{
    /// <summary>Starts the control plane with <paramref name="start"/>: at once on a single master (as before several
    /// masters existed), or as the cluster singleton "/user/control-plane" on role master with several.</summary>
    public static AkkaConfigurationBuilder WithControlPlane(this AkkaConfigurationBuilder builder, MasterPeers peers,
        MasterLeadership leadership, Action<ActorSystem, IActorRegistry> start)
    {
        if (!peers.Several)
        {
            leadership.HostsControlPlane = true;
            return builder.WithActors((system, registry) => start(system, registry));
        }
        return builder.WithActors((system, registry) => StartManager(system, leadership, () => start(system, registry)));
    }

    /// <summary>The ClusterSingletonManager "/user/control-plane" of this master, on role master.</summary>
    public static IActorRef StartManager(ActorSystem system, MasterLeadership leadership, Action start)
    {
        system.Settings.InjectTopLevelFallback(ClusterSingleton.DefaultConfig());
        JournalWarmup.ScheduleOnMemberUp(system);
        return system.ActorOf(
            ClusterSingletonManager.Props(ControlPlaneSingleton.Props(start, leadership), PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(NodeProtocolNames.MasterRole)),
            NodeProtocolNames.ControlPlaneActorName);
    }
}
