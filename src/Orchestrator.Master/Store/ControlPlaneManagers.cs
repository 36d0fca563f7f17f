using Akka.Actor;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Store;

/// <summary>
/// The field managers of the control plane's own writes, named as Kubernetes names its components in
/// <c>metadata.managedFields</c>: the node gateway writes for the kubelets, the scheduler as kube-scheduler, and every
/// other top-level actor of the master (the controllers, directly or through their store calls) as
/// kube-controller-manager. A request from outside the actor tree (an Ask's temporary actor) names its manager itself;
/// when it does not, no manager is recorded.
/// </summary>
internal static class ControlPlaneManagers
{
    public static FieldManager? Of(IActorRef sender)
    {
        var elements = sender.Path.Elements;
        if (elements.Count < 2 || elements[0] != "user") return null;
        return elements[1] switch
        {
            NodeProtocolNames.GatewayActorName => Kubelet,
            "scheduler" => Scheduler,
            _ => ControllerManager,
        };
    }

    private static readonly FieldManager Kubelet = new("kubelet"), Scheduler = new("kube-scheduler"),
        ControllerManager = new("kube-controller-manager");
}
