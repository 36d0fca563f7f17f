using Akka.Actor;

namespace Orchestrator.Master.Store;

// PLACEHOLDER until the store engineer's branch lands: the event-sourced ObjectStore actor.
// The class name is the ActorRegistry key: registry.Register<ObjectStore>(actorRef).
public sealed class ObjectStore : ReceiveActor
{
}
