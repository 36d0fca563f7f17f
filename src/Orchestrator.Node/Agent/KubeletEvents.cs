using k8s.Models;

namespace Orchestrator.Node.Agent;

/// <summary>Events about a pod as the kubelet writes them (source component "kubelet", host = node).</summary>
internal static class KubeletEvents
{
    public static Corev1Event ForPod(V1Pod pod, string? containerName, string type, string reason, string message, string nodeName, DateTime now)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        return new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta { Name = $"{pod.Metadata.Name}.{Guid.NewGuid():N}"[..Math.Min(253, pod.Metadata.Name.Length + 17)], NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Name = pod.Metadata.Name,
                NamespaceProperty = ns,
                Uid = pod.Metadata.Uid,
                FieldPath = containerName is null ? null : $"spec.containers{{{containerName}}}",
            },
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

    /// <summary>An event about the node itself, as the kubelet records it: on the Node (its uid is its name in the kubelet's
    /// reference), in the default namespace.</summary>
    public static Corev1Event ForNode(string nodeName, string type, string reason, string message, DateTime now) => new()
    {
        ApiVersion = "v1",
        Kind = "Event",
        Metadata = new V1ObjectMeta { Name = $"{nodeName}.{Guid.NewGuid():N}"[..Math.Min(253, nodeName.Length + 17)], NamespaceProperty = "default" },
        InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = nodeName },
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
