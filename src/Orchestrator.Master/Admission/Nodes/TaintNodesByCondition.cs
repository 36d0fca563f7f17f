using k8s.Models;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Admission.Nodes;

/// <summary>
/// Kubernetes' TaintNodesByCondition admission plugin (plugin/pkg/admission/nodetaint): every Node created gets
/// <c>node.kubernetes.io/not-ready:NoSchedule</c> unless it has a taint of that key and effect already, so no pod is
/// scheduled onto it before it reports Ready and the node lifecycle controller takes the taint off (its condition
/// taints). The store runs it on every create, so a node the NodeGateway registers gets it as one made with kubectl.
/// Creates of the nodes resource only, not its subresources; updates are left alone.
/// </summary>
internal sealed class TaintNodesByCondition : IMutatingAdmission
{
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";

    public AdmissionMutation Admit(AdmissionAttributes attributes, IAdmissionContext context)
    {
        if (attributes is not { Operation: AdmissionAttributes.Create, Subresource: null } ||
            attributes.Resource is not { Group: "", Resource: "nodes" } || attributes.Object is not V1Node node)
            return AdmissionMutation.None;
        node.Spec ??= new V1NodeSpec();
        // kube's MatchTaint: the same key and effect (whatever the value)
        if (node.Spec.Taints?.Any(t => t?.Key == NotReadyTaint && t.Effect == "NoSchedule") == true) return AdmissionMutation.None;
        node.Spec.Taints ??= new List<V1Taint>();
        node.Spec.Taints.Add(new V1Taint { Key = NotReadyTaint, Effect = "NoSchedule" });
        return AdmissionMutation.Mutated;
    }
}
