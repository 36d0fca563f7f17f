using Akka.Hosting;

namespace Orchestrator.Master.Controllers;

public static class ControlPlaneHosting
{
    // PLACEHOLDER until the controllers engineer's branch lands: starts the controllers, the scheduler and the
    // NodeGateway (actor name "node-gateway"), each finding the store through ActorRegistry key ObjectStore.
    public static AkkaConfigurationBuilder WithControlPlane(this AkkaConfigurationBuilder builder) => builder;
}
