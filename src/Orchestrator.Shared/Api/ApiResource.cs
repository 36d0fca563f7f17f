using k8s;
using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// One REST resource the API server serves: where it lives (group/version/plural), what CLR model of the
/// KubernetesClient package holds it, and how discovery describes it. The master's routing, discovery and store
/// keys all come from it (orchctl keeps its own table of the names it accepts).
/// </summary>
public sealed record ApiResource(
    string Group,
    string Version,
    string Resource,
    string Singular,
    string Kind,
    bool Namespaced,
    Type ObjectType,
    Type ListType,
    IReadOnlyList<string> ShortNames,
    IReadOnlyList<string> Subresources,
    IReadOnlyList<string> Categories)
{
    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
    public string ListKind => Kind + "List";

    /// <summary>The path prefix of the group version: "/api/v1" or "/apis/apps/v1".</summary>
    public string GroupVersionPath => Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";

    public static readonly IReadOnlyList<string> AllVerbs =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
}

public static class ApiResources
{
    public static readonly ApiResource Namespaces = new("", "v1", "namespaces", "namespace", "Namespace", false,
        typeof(V1Namespace), typeof(V1NamespaceList), ["ns"], ["status"], []);
    public static readonly ApiResource Nodes = new("", "v1", "nodes", "node", "Node", false,
        typeof(V1Node), typeof(V1NodeList), ["no"], ["status"], []);
    public static readonly ApiResource Pods = new("", "v1", "pods", "pod", "Pod", true,
        typeof(V1Pod), typeof(V1PodList), ["po"], ["status", "log", "exec", "portforward", "binding", "eviction"], ["all"]);
    public static readonly ApiResource Services = new("", "v1", "services", "service", "Service", true,
        typeof(V1Service), typeof(V1ServiceList), ["svc"], ["status"], ["all"]);
    public static readonly ApiResource Endpoints = new("", "v1", "endpoints", "endpoints", "Endpoints", true,
        typeof(V1Endpoints), typeof(V1EndpointsList), ["ep"], [], []);
    public static readonly ApiResource Events = new("", "v1", "events", "event", "Event", true,
        typeof(Corev1Event), typeof(Corev1EventList), ["ev"], [], []);
    public static readonly ApiResource ReplicationControllers = new("", "v1", "replicationcontrollers", "replicationcontroller",
        "ReplicationController", true, typeof(V1ReplicationController), typeof(V1ReplicationControllerList), ["rc"],
        ["status", "scale"], ["all"]);
    public static readonly ApiResource ConfigMaps = new("", "v1", "configmaps", "configmap", "ConfigMap", true,
        typeof(V1ConfigMap), typeof(V1ConfigMapList), ["cm"], [], []);
    public static readonly ApiResource Secrets = new("", "v1", "secrets", "secret", "Secret", true,
        typeof(V1Secret), typeof(V1SecretList), [], [], []);
    public static readonly ApiResource Deployments = new("apps", "v1", "deployments", "deployment", "Deployment", true,
        typeof(V1Deployment), typeof(V1DeploymentList), ["deploy"], ["status", "scale"], ["all"]);
    public static readonly ApiResource ReplicaSets = new("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true,
        typeof(V1ReplicaSet), typeof(V1ReplicaSetList), ["rs"], ["status", "scale"], ["all"]);
    public static readonly ApiResource EventsV1 = new("events.k8s.io", "v1", "events", "event", "Event", true,
        typeof(Eventsv1Event), typeof(Eventsv1EventList), ["ev"], [], []);

    public static readonly IReadOnlyList<ApiResource> All =
    [
        Namespaces, Nodes, Pods, Services, Endpoints, Events, ReplicationControllers, ConfigMaps, Secrets,
        Deployments, ReplicaSets, EventsV1,
    ];

    public static ApiResource? Find(string group, string version, string resource) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Resource == resource);

    public static ApiResource? FindByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(r => r.GroupVersion == apiVersion && r.Kind == kind);

    /// <summary>The resource that stores objects of this CLR type (core events win over events.k8s.io).</summary>
    public static ApiResource ForType(Type type) =>
        All.First(r => r.ObjectType == type);

    public static ApiResource For<T>() where T : IKubernetesObject<V1ObjectMeta> => ForType(typeof(T));
}
