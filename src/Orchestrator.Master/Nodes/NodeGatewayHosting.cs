using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

internal static class NodeGatewayHosting
{
    /// <summary>Starts the NodeGateway at "/user/node-gateway", where node agents look for it, against the store
    /// registered as <see cref="ObjectStore"/> (so call this after <c>WithObjectStore</c>), and registers it in the
    /// ActorRegistry as <see cref="NodeGateway"/>.</summary>
    public static AkkaConfigurationBuilder WithNodeGateway(this AkkaConfigurationBuilder builder, NodeGatewaySettings settings,
        TimeSpan resync) =>
        builder.WithActors((system, registry) => registry.Register<NodeGateway>(Start(system, registry.Get<ObjectStore>(), settings, resync)));

    public static IActorRef Start(ActorSystem system, IActorRef store, NodeGatewaySettings settings, TimeSpan resync) =>
        system.ActorOf(NodeGateway.Props(store, settings, resync), NodeProtocolNames.GatewayActorName);
}
