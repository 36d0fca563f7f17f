using k8s.Models;

namespace Orchestrator.Node.Agent;

/// <summary>Events as the kubelet writes them (source component "kubelet", host = node): about a pod, or about the node.</summary>
internal static class KubeletEvents
{
    public static Corev1Event ForPod(V1Pod pod, string? containerName, string type, string reason, string message, string nodeName, DateTime now) =>
        Build(pod.Metadata.Name, pod.Metadata.NamespaceProperty ?? "default", new V1ObjectReference
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Name = pod.Metadata.Name,
            NamespaceProperty = pod.Metadata.NamespaceProperty ?? "default",
            Uid = pod.Metadata.Uid,
            FieldPath = containerName is null ? null : $"spec.containers{{{containerName}}}",
        }, type, reason, message, nodeName, now);

    /// <summary>An event about the node itself, as the kubelet records it: on the Node (its uid is its name in the kubelet's
    /// reference), in the default namespace.</summary>
    public static Corev1Event ForNode(string nodeName, string type, string reason, string message, DateTime now) =>
        Build(nodeName, "default", new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = nodeName },
            type, reason, message, nodeName, now);

    private static Corev1Event Build(string objectName, string ns, V1ObjectReference involved, string type, string reason,
        string message, string nodeName, DateTime now) => new()
    {
        ApiVersion = "v1",
        Kind = "Event",
        Metadata = new V1ObjectMeta { Name = $"{objectName}.{Guid.NewGuid():N}"[..Math.Min(253, objectName.Length + 17)], NamespaceProperty = ns },
        InvolvedObject = involved,
        Type = type,
        Reason = reason,
        Message = message,
        Source = new V1EventSource { Component = "kubelet", Host = nodeName },
        ReportingComponent = "kubelet",
        ReportingInstance = nodeName,
        FirstTimestamp = now,
        LastTimestamp = now,
        Count = 1,
    };
}
