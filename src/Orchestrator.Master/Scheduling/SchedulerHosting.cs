using Akka.Actor;

namespace Orchestrator.Master.Scheduling;

internal static class SchedulerHosting
{
    /// <summary>Starts the scheduler ("scheduler") against <paramref name="store"/>.</summary>
    public static IActorRef Start(ActorSystem system, IActorRef store, TimeSpan resync) =>
        system.ActorOf(Scheduler.Props(store, resync), "scheduler");
}
