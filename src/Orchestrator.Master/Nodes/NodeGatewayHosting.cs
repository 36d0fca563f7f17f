using Akka.Actor;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

internal static class NodeGatewayHosting
{
    /// <summary>Starts the NodeGateway at "/user/node-gateway", where node agents look for it, against <paramref name="store"/>.</summary>
    public static IActorRef Start(ActorSystem system, IActorRef store, NodeGatewaySettings settings, TimeSpan resync) =>
        system.ActorOf(NodeGateway.Props(store, settings, resync), NodeProtocolNames.GatewayActorName);
}
