using k8s.Models;
using Orchestrator.Master.ControlLoop;

namespace Orchestrator.Master.Controllers.Rbac;

/// <summary>
/// The default roles and bindings of kube-apiserver's RBAC bootstrap policy (plugin/pkg/auth/authorizer/rbac/
/// bootstrappolicy), the part this cluster serves: cluster-admin, the aggregated admin, edit and view with the
/// system:aggregate-to-* roles they gather, system:basic-user, system:discovery and system:public-info-viewer, and their
/// ClusterRoleBindings. Each carries the kubernetes.io/bootstrapping=rbac-defaults label and the autoupdate annotation.
/// </summary>
internal static class BootstrapPolicy
{
    public const string BootstrappingLabel = "kubernetes.io/bootstrapping";
    public const string AutoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate";
    public const string AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
    public const string AggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
    public const string AggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

    private static readonly string[] Read = ["get", "list", "watch"];
    private static readonly string[] Write = ["create", "delete", "deletecollection", "patch", "update"];
    private static readonly string[] ReadWrite = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public static IReadOnlyList<V1ClusterRole> ClusterRoles() =>
    [
        Aggregated("admin", AggregateToAdmin, null),
        Role("cluster-admin", null, Rule(["*"], ["*"], ["*"]), new V1PolicyRule { NonResourceURLs = ["*"], Verbs = ["*"] }),
        Aggregated("edit", AggregateToEdit, AggregateToAdmin),
        Role("system:aggregate-to-admin", AggregateToAdmin,
            Rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
            Rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], ReadWrite)),
        Role("system:aggregate-to-edit", AggregateToEdit,
            Rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], Read),
            Rule([""], ["serviceaccounts"], ["impersonate"]),
            Rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], Write),
            Rule([""], ["pods/eviction"], ["create"]),
            Rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
                "secrets", "serviceaccounts", "services", "services/proxy"], Write),
            Rule([""], ["serviceaccounts/token"], ["create"]),
            Rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                "replicasets/scale", "statefulsets", "statefulsets/scale"], Write),
            Rule(["autoscaling"], ["horizontalpodautoscalers"], Write),
            Rule(["batch"], ["cronjobs", "jobs"], Write),
            Rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
                "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"], Write),
            Rule(["policy"], ["poddisruptionbudgets"], Write),
            Rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], Write),
            Rule(["coordination.k8s.io"], ["leases"], ReadWrite)),
        Role("system:aggregate-to-view", AggregateToView,
            Rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], Read),
            Rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], Read),
            Rule([""], ["namespaces"], Read),
            Rule(["discovery.k8s.io"], ["endpointslices"], Read),
            Rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                "statefulsets/scale", "statefulsets/status"], Read),
            Rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], Read),
            Rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], Read),
            Rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status",
                "replicationcontrollers/scale"], Read),
            Rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], Read),
            Rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], Read)),
        // not Kubernetes' bootstrap policy but metrics-server's manifest, since this API server serves metrics.k8s.io itself
        // (labelled for view, which edit and admin aggregate in turn)
        Role("system:aggregated-metrics-reader", AggregateToView, Rule(["metrics.k8s.io"], ["nodes", "pods"], ["get", "list", "watch"])),
        Role("system:basic-user", null,
            Rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
            Rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])),
        Role("system:discovery", null, new V1PolicyRule
        {
            NonResourceURLs = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz",
                "/version", "/version/"],
            Verbs = ["get"],
        }),
        Role("system:public-info-viewer", null, new V1PolicyRule
        {
            NonResourceURLs = ["/healthz", "/livez", "/readyz", "/version", "/version/"], Verbs = ["get"],
        }),
        Aggregated("view", AggregateToView, AggregateToEdit),
        Role("system:auth-delegator", null,
            Rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            Rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])),
        Role("system:service-account-issuer-discovery", null, new V1PolicyRule
        {
            NonResourceURLs = ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks",
                "/openid/v1/jwks/"],
            Verbs = ["get"],
        }),
    ];

    public static IReadOnlyList<V1ClusterRoleBinding> ClusterRoleBindings() =>
    [
        Binding("cluster-admin", "system:masters"),
        Binding("system:basic-user", "system:authenticated"),
        Binding("system:discovery", "system:authenticated"),
        Binding("system:public-info-viewer", "system:authenticated", "system:unauthenticated"),
        Binding("system:service-account-issuer-discovery", "system:serviceaccounts"),
    ];

    private static V1PolicyRule Rule(string[] groups, string[] resources, string[] verbs) =>
        new() { ApiGroups = groups, Resources = resources, Verbs = verbs };

    private static V1ObjectMeta Meta(string name, string? aggregateTo)
    {
        var labels = new Dictionary<string, string> { [BootstrappingLabel] = "rbac-defaults" };
        if (aggregateTo is not null) labels[aggregateTo] = "true";
        return new V1ObjectMeta
        {
            Name = name, Labels = labels, Annotations = new Dictionary<string, string> { [AutoUpdateAnnotation] = "true" },
        };
    }

    private static V1ClusterRole Role(string name, string? aggregateTo, params V1PolicyRule[] rules) => new()
    {
        ApiVersion = ModelTypes.ApiVersionOf(typeof(V1ClusterRole)), Kind = "ClusterRole",
        Metadata = Meta(name, aggregateTo), Rules = rules,
    };

    /// <summary>A role whose rules the aggregation controller gathers from the roles labelled <paramref name="selects"/>.</summary>
    private static V1ClusterRole Aggregated(string name, string selects, string? aggregateTo) => new()
    {
        ApiVersion = ModelTypes.ApiVersionOf(typeof(V1ClusterRole)), Kind = "ClusterRole",
        Metadata = Meta(name, aggregateTo),
        AggregationRule = new V1AggregationRule
        {
            ClusterRoleSelectors = [new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [selects] = "true" } }],
        },
    };

    private static V1ClusterRoleBinding Binding(string role, params string[] groups) => new()
    {
        ApiVersion = ModelTypes.ApiVersionOf(typeof(V1ClusterRoleBinding)), Kind = "ClusterRoleBinding",
        Metadata = Meta(role, null),
        RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = role },
        Subjects = groups.Select(g => new Rbacv1Subject { ApiGroup = "rbac.authorization.k8s.io", Kind = "Group", Name = g }).ToList(),
    };
}
