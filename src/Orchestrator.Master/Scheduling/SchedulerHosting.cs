using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Scheduling;

internal static class SchedulerHosting
{
    /// <summary>Starts the scheduler ("scheduler") against the store registered as <see cref="ObjectStore"/> (so call
    /// this after <c>WithObjectStore</c>).</summary>
    public static AkkaConfigurationBuilder WithScheduler(this AkkaConfigurationBuilder builder, TimeSpan resync) =>
        builder.WithActors((system, registry) => Start(system, registry.Get<ObjectStore>(), resync));

    public static IActorRef Start(ActorSystem system, IActorRef store, TimeSpan resync) =>
        system.ActorOf(Scheduler.Props(store, resync), "scheduler");
}
