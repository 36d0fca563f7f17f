using k8s.Models;

namespace Orchestrator.Master.Tests.Controllers.Support;

/// <summary>Builders for the API objects tests need.</summary>
public static class Objects
{
    public static V1PodTemplateSpec Template(IDictionary<string, string> labels, params V1ContainerPort[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container { Name = "web", Image = "katacoda/docker-http-server:latest", Ports = ports.ToList() }],
        },
    };

    public static V1ReplicaSet ReplicaSet(string name, int replicas, string app = "web") => new()
    {
        ApiVersion = "apps/v1",
        Kind = "ReplicaSet",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ReplicaSetSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } },
            Template = Template(new Dictionary<string, string> { ["app"] = app }),
        },
    };

    public static V1Deployment Deployment(string name, int replicas, string app, params V1ContainerPort[] ports) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } },
            Template = Template(new Dictionary<string, string> { ["app"] = app }, ports),
        },
    };

    public static V1Pod Pod(string name, IDictionary<string, string>? labels = null, string? nodeName = null,
        string? phase = null, bool ready = false, DateTime? created = null, V1OwnerReference? owner = null,
        string? podIp = null, DateTime? readySince = null, params V1ContainerPort[] ports) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "default",
            Labels = labels is null ? null : new Dictionary<string, string>(labels),
            CreationTimestamp = created,
            OwnerReferences = owner is null ? null : [owner],
        },
        Spec = new V1PodSpec
        {
            NodeName = nodeName,
            Containers = [new V1Container { Name = "web", Image = "img", Ports = ports.ToList() }],
        },
        Status = phase is null && !ready
            ? null
            : new V1PodStatus
            {
                Phase = phase,
                PodIP = podIp,
                Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = readySince }],
            },
    };

    public static V1OwnerReference ControllerRef(V1ReplicaSet rs) => new()
    {
        ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = rs.Metadata.Name, Uid = rs.Metadata.Uid, Controller = true,
        BlockOwnerDeletion = true,
    };

    public static V1Node Node(string name, bool ready = true, bool unschedulable = false,
        IDictionary<string, string>? labels = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name, Labels = labels is null ? null : new Dictionary<string, string>(labels) },
        Spec = new V1NodeSpec { Unschedulable = unschedulable },
        Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = ready ? "True" : "False", LastHeartbeatTime = DateTime.UtcNow }],
        },
    };

    public static Dictionary<string, string> App(string app) => new() { ["app"] = app };
}
