using k8s.Models;
using Orchestrator.Shared.Protocol;

namespace Orchestrator.Master.Nodes;

/// <summary>What the nodes need of the cluster to enforce NetworkPolicies (<see cref="NetworkPoliciesChanged"/>): pods
/// as policy peers and namespaces' labels. A pod counts once it has an IP on the pod network and until it ends
/// (hostNetwork pods are the node's own traffic, as in Kubernetes; finished pods' IPs may be reused).</summary>
internal static class NetworkPolicyFacts
{
    public static PolicyPod? PeerOf(V1Pod? pod)
    {
        if (pod?.Status?.PodIP is not { Length: > 0 } ip || pod.Spec?.HostNetwork == true
            || pod.Status.Phase is "Succeeded" or "Failed") return null;
        var ports = (pod.Spec?.Containers ?? []).SelectMany(c => c.Ports ?? [])
            .Where(p => !string.IsNullOrEmpty(p.Name))
            .Select(p => new PolicyPodPort(p.Name, p.ContainerPort, p.Protocol ?? "TCP"))
            .ToList();
        return new PolicyPod(pod.Metadata.NamespaceProperty ?? "default", pod.Metadata.Name,
            pod.Metadata.Labels is { } labels ? new Dictionary<string, string>(labels) : null, ip, ports);
    }

    /// <summary>True when the change moves what a policy could see of the pod (its IP, labels, named ports).</summary>
    public static bool PeerChanged(V1Pod? before, V1Pod? after)
    {
        var (a, b) = (PeerOf(before), PeerOf(after));
        if (a is null || b is null) return a != b;
        return a.Ip != b.Ip || a.Namespace != b.Namespace
            || !SameLabels(a.Labels, b.Labels) || !(a.Ports ?? []).SequenceEqual(b.Ports ?? []);
    }

    public static bool SameLabels(IEnumerable<KeyValuePair<string, string>>? a, IEnumerable<KeyValuePair<string, string>>? b) =>
        (a ?? []).OrderBy(kv => kv.Key, StringComparer.Ordinal).SequenceEqual((b ?? []).OrderBy(kv => kv.Key, StringComparer.Ordinal));

    public static NetworkPoliciesChanged Message(long generation, IReadOnlyList<V1NetworkPolicy> policies, IEnumerable<V1Namespace> namespaces,
        IEnumerable<V1Pod> pods) =>
        policies.Count == 0
            ? new NetworkPoliciesChanged(generation, [], [], [])
            : new NetworkPoliciesChanged(generation, policies,
                namespaces.Select(n => new PolicyNamespace(n.Metadata.Name,
                    n.Metadata.Labels is { } labels ? new Dictionary<string, string>(labels) : null)).ToList(),
                pods.Select(PeerOf).OfType<PolicyPod>().ToList());
}
