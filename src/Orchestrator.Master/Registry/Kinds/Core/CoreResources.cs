using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Apps;

namespace Orchestrator.Master.Registry.Kinds.Core;

/// <summary>The core group (<c>/api/v1</c>).</summary>
internal static class CoreResources
{
    private static SubresourceDescription Status(string kind) => SubresourceDescription.Status(kind);

    public static readonly ResourceDescription Namespaces = new()
    {
        Group = "", Version = "v1", Resource = "namespaces", Kind = "Namespace", Namespaced = false,
        ObjectType = typeof(V1Namespace), Strategy = new NamespaceStrategy(), Printer = new NamespaceTablePrinter(),
        ShortNames = ["ns"], Subresources = [Status("Namespace"), new("finalize", null, null, "Namespace", ["update"])], SelectableFields = ["status.phase"],
        ProtobufMessage = "k8s.io.api.core.v1.Namespace",
    };

    public static readonly ResourceDescription Nodes = new()
    {
        Group = "", Version = "v1", Resource = "nodes", Kind = "Node", Namespaced = false,
        ObjectType = typeof(V1Node), Strategy = new NodeStrategy { HasGeneration = false }, Printer = new NodeTablePrinter(),
        ShortNames = ["no"], Subresources = [Status("Node"), new("proxy", null, null, "NodeProxyOptions", ["create", "delete", "get", "patch", "update"])],
        SelectableFields = ["spec.unschedulable"], ProtobufMessage = "k8s.io.api.core.v1.Node",
    };

    public static readonly ResourceDescription Pods = new()
    {
        Group = "", Version = "v1", Resource = "pods", Kind = "Pod", Namespaced = true,
        ObjectType = typeof(V1Pod), Strategy = new PodStrategy(), Printer = new PodTablePrinter(),
        ShortNames = ["po"], Categories = ["all"],
        Subresources =
        [
            Status("Pod"),
            new("attach", null, null, "PodAttachOptions", ["create", "get"]),
            new("binding", null, null, "Binding", ["create"]),
            new("ephemeralcontainers", null, null, "Pod", ["get", "patch", "update"]),
            new("eviction", "policy", "v1", "Eviction", ["create"]),
            new("exec", null, null, "PodExecOptions", ["create", "get"]),
            new("log", null, null, "Pod", ["get"]),
            new("portforward", null, null, "PodPortForwardOptions", ["create", "get"]),
            new("proxy", null, null, "PodProxyOptions", ["create", "delete", "get", "patch", "update"]),
        ],
        SelectableFields = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
        ProtobufMessage = "k8s.io.api.core.v1.Pod",
    };

    public static readonly ResourceDescription Services = new()
    {
        Group = "", Version = "v1", Resource = "services", Kind = "Service", Namespaced = true,
        ObjectType = typeof(V1Service), Strategy = new ServiceStrategy(), Printer = new ServiceTablePrinter(),
        ShortNames = ["svc"], Categories = ["all"],
        Subresources = [Status("Service"), new("proxy", null, null, "ServiceProxyOptions", ["create", "delete", "get", "patch", "update"])],
        SelectableFields = ["spec.clusterIP", "spec.type"],
        ProtobufMessage = "k8s.io.api.core.v1.Service",
    };

    public static readonly ResourceDescription Endpoints = new()
    {
        Group = "", Version = "v1", Resource = "endpoints", Singular = "endpoints", Kind = "Endpoints", Namespaced = true,
        ObjectType = typeof(V1Endpoints), Strategy = new EndpointsStrategy(), Printer = new EndpointsTablePrinter(),
        ShortNames = ["ep"], ProtobufMessage = "k8s.io.api.core.v1.Endpoints",
    };

    public static readonly ResourceDescription Events = new()
    {
        Group = "", Version = "v1", Resource = "events", Kind = "Event", Namespaced = true,
        ObjectType = typeof(Corev1Event), Strategy = new EventStrategy(), Printer = new EventTablePrinter(),
        ShortNames = ["ev"], SelectableFields = EventFields,
        SelectableFieldPaths = new Dictionary<string, string> { ["source"] = "source.component" },
        ProtobufMessage = "k8s.io.api.core.v1.Event",
    };

    public static readonly ResourceDescription ReplicationControllers = new()
    {
        Group = "", Version = "v1", Resource = "replicationcontrollers", Kind = "ReplicationController", Namespaced = true,
        ObjectType = typeof(V1ReplicationController), Strategy = new ReplicationControllerStrategy(),
        Printer = new ReplicationControllerTablePrinter(), ShortNames = ["rc"], Categories = ["all"],
        Subresources = [Status("ReplicationController"), SubresourceDescription.ScaleOf(new(".spec.replicas", ".status.replicas", ".spec.selector"))],
        SelectableFields = ["status.replicas"],
        ProtobufMessage = "k8s.io.api.core.v1.ReplicationController",
    };

    public static readonly ResourceDescription ConfigMaps = new()
    {
        Group = "", Version = "v1", Resource = "configmaps", Kind = "ConfigMap", Namespaced = true,
        ObjectType = typeof(V1ConfigMap), Strategy = new ConfigMapStrategy(), Printer = new ConfigMapTablePrinter(),
        ShortNames = ["cm"], ProtobufMessage = "k8s.io.api.core.v1.ConfigMap",
    };

    public static readonly ResourceDescription Secrets = new()
    {
        Group = "", Version = "v1", Resource = "secrets", Kind = "Secret", Namespaced = true,
        ObjectType = typeof(V1Secret), Strategy = new SecretStrategy(), Printer = new SecretTablePrinter(),
        SelectableFields = ["type"], ProtobufMessage = "k8s.io.api.core.v1.Secret",
    };

    /// <summary>core/v1 ServiceAccounts, with their <c>token</c> subresource (TokenRequest, served by the API's authentication layer).</summary>
    public static readonly ResourceDescription ServiceAccounts = new()
    {
        Group = "", Version = "v1", Resource = "serviceaccounts", Kind = "ServiceAccount", Namespaced = true,
        ObjectType = typeof(V1ServiceAccount), Strategy = new ServiceAccountStrategy(), Printer = new ServiceAccountTablePrinter(),
        ShortNames = ["sa"], ProtobufMessage = "k8s.io.api.core.v1.ServiceAccount",
        Subresources = [new("token", "authentication.k8s.io", "v1", "TokenRequest", ["create"])],
    };

    /// <summary>core/v1 ComponentStatus (deprecated since 1.19, still served by 1.32): the control plane's parts and
    /// whether each answers, computed on each get or list and never stored (the ComponentStatuses view answers them;
    /// this description gives them discovery, OpenAPI, RBAC names and their table).</summary>
    public static readonly ResourceDescription ComponentStatuses = new()
    {
        Group = "", Version = "v1", Resource = "componentstatuses", Kind = "ComponentStatus", Namespaced = false,
        ObjectType = typeof(V1ComponentStatus), Strategy = new ModelStrategy<V1ComponentStatus>(),
        Printer = new ComponentStatusTablePrinter(), ShortNames = ["cs"], Verbs = ResourceDescription.ReadVerbs,
        DeprecationWarning = "v1 ComponentStatus is deprecated in v1.19+",
    };

    /// <summary>The create-only <c>bindings</c> of a namespace (a pod's binding named by the Binding; never stored).</summary>
    public static readonly ResourceDescription Bindings = new()
    {
        Group = "", Version = "v1", Resource = "bindings", Kind = "Binding", Namespaced = true,
        ObjectType = typeof(V1Binding), Strategy = new ModelStrategy<V1Binding>(), Verbs = ["create"],
    };

    /// <summary>The field selectors of core/v1 events (its field label conversion; events.k8s.io/v1 has its own names).</summary>
    public static IReadOnlyList<string> EventFields =>
    [
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type",
    ];

    public static IReadOnlyList<ResourceDescription> All =>
        [Namespaces, Nodes, Pods, Services, Endpoints, Events, ReplicationControllers, ConfigMaps, Secrets, ServiceAccounts,
            ComponentStatuses, Bindings];
}
