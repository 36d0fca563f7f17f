using k8s.Models;

namespace Orchestrator.Master.Api.Authorization;

/// <summary>
/// kube-apiserver's Node authorizer (plugin/pkg/auth/authorizer/node, with AuthorizeNodeWithSelectors on as in 1.32):
/// only for node users (<see cref="NodeIdentity"/>). Secrets, ConfigMaps, claims, volumes and ServiceAccount tokens
/// only when the object reaches the node in the <see cref="NodeGraph"/>; the own Node and Lease; pods bound to the
/// node; everything else by the static node rules (bootstrappolicy.NodeRules). Allows or has no opinion — never
/// denies — so RBAC comes after it; NodeRestriction narrows what it lets through by name or object.
/// </summary>
internal sealed class NodeAuthorizer(NodeGraphCache graph)
{
    private const string LeaseNamespace = "kube-node-lease";
    private static readonly string[] Read = ["get", "list", "watch"];

    /// <summary>bootstrappolicy.NodeRules of 1.32 (without the feature-gated DRA and ClusterTrustBundle rules).</summary>
    public static readonly IReadOnlyList<V1PolicyRule> NodeRules =
    [
        Rule("authentication.k8s.io", ["tokenreviews"], ["create"]),
        Rule("authorization.k8s.io", ["subjectaccessreviews", "localsubjectaccessreviews"], ["create"]),
        Rule("", ["services"], Read),
        Rule("", ["nodes"], ["create", "get", "list", "watch"]),
        Rule("", ["nodes/status"], ["update", "patch"]),
        Rule("", ["nodes"], ["update", "patch"]),
        Rule("", ["events"], ["create", "update", "patch"]),
        Rule("", ["pods"], Read),
        Rule("", ["pods"], ["create", "delete"]),
        Rule("", ["pods/status"], ["update", "patch"]),
        Rule("", ["pods/eviction"], ["create"]),
        Rule("", ["secrets", "configmaps"], Read),
        Rule("", ["persistentvolumeclaims", "persistentvolumes"], ["get"]),
        Rule("", ["endpoints"], ["get"]),
        Rule("certificates.k8s.io", ["certificatesigningrequests"], ["create", "get", "list", "watch"]),
        Rule("coordination.k8s.io", ["leases"], ["get", "create", "update", "patch", "delete"]),
        Rule("storage.k8s.io", ["volumeattachments"], ["get"]),
        Rule("", ["serviceaccounts/token"], ["create"]),
        Rule("", ["persistentvolumeclaims/status"], ["get", "update", "patch"]),
        Rule("storage.k8s.io", ["csidrivers"], Read),
        Rule("storage.k8s.io", ["csinodes"], ["get", "create", "update", "patch", "delete"]),
        Rule("node.k8s.io", ["runtimeclasses"], Read),
    ];

    private static V1PolicyRule Rule(string group, IList<string> resources, IList<string> verbs) =>
        new() { ApiGroups = [group], Resources = resources, Verbs = verbs };

    /// <summary>Allowed, or no opinion with kube's reason (maybe empty).</summary>
    public (bool Allowed, string Reason) Authorize(AuthorizationAttributes a)
    {
        var (node, isNode) = NodeIdentity.Of(a.User);
        if (!isNode) return (false, "");
        if (node.Length == 0) return (false, $"unknown node for user \"{a.User.Name}\"");
        if (a.IsResourceRequest)
        {
            switch (a.ApiGroup, a.Resource)
            {
                case ("", "secrets"): return ReadNamespaced(node, NodeGraph.Secret, a);
                case ("", "configmaps"): return ReadNamespaced(node, NodeGraph.ConfigMap, a);
                case ("", "persistentvolumeclaims"):
                    return a.Subresource == "status" ? StatusUpdate(node, NodeGraph.Claim, a) : Get(node, NodeGraph.Claim, a);
                case ("", "persistentvolumes"): return Get(node, NodeGraph.Volume, a);
                case ("storage.k8s.io", "volumeattachments"): return Get(node, "volumeattachment", a);
                case ("", "serviceaccounts"): return CreateToken(node, a);
                case ("coordination.k8s.io", "leases"): return Lease(node, a);
                case ("storage.k8s.io", "csinodes"): return CsiNode(node, a);
                case ("", "nodes"): return Node(node, a);
                case ("", "pods"): return Pod(node, a);
            }
        }
        return (NodeRules.Any(rule => RbacRules.Allows(a, rule)), "");
    }

    private (bool, string) StatusUpdate(string node, string type, AuthorizationAttributes a)
    {
        if (a.Verb is not ("update" or "patch")) return (false, "can only get/update/patch this type");
        if (a.Subresource != "status") return (false, "can only update status subresource");
        return Related(node, type, a);
    }

    private (bool, string) Get(string node, string type, AuthorizationAttributes a)
    {
        if (a.Verb != "get") return (false, "can only get individual resources of this type");
        if (a.Subresource.Length > 0) return (false, "cannot get subresource");
        return Related(node, type, a);
    }

    private (bool, string) ReadNamespaced(string node, string type, AuthorizationAttributes a)
    {
        if (a.Verb is not ("get" or "list" or "watch")) return (false, "can only read resources of this type");
        if (a.Subresource.Length > 0) return (false, "cannot read subresource");
        if (a.Namespace.Length == 0) return (false, "can only read namespaced object of this type");
        return Related(node, type, a);
    }

    private (bool, string) Related(string node, string type, AuthorizationAttributes a)
    {
        if (a.Name.Length == 0) return (false, "No Object name found");
        return graph.Graph.Reaches(type, a.Namespace, a.Name, node)
            ? (true, "")
            : (false, $"no relationship found between node '{node}' and this object");
    }

    private (bool, string) CreateToken(string node, AuthorizationAttributes a)
    {
        if (a.Verb != "create" || a.Name.Length == 0) return (false, "can only create tokens for individual service accounts");
        if (a.Subresource != "token") return (false, "can only create token subresource of serviceaccount");
        return graph.Graph.Reaches(NodeGraph.ServiceAccount, a.Namespace, a.Name, node)
            ? (true, "")
            : (false, $"no relationship found between node '{node}' and this object");
    }

    private static (bool, string) Lease(string node, AuthorizationAttributes a)
    {
        if (a.Verb is not ("get" or "create" or "update" or "patch" or "delete"))
            return (false, "can only get, create, update, patch, or delete a node lease");
        if (a.Namespace != LeaseNamespace) return (false, $"can only access leases in the \"{LeaseNamespace}\" system namespace");
        // on create the name is in the body: NodeRestriction checks it
        if (a.Verb != "create" && a.Name != node) return (false, "can only access node lease with the same name as the requesting node");
        return (true, "");
    }

    private static (bool, string) CsiNode(string node, AuthorizationAttributes a)
    {
        if (a.Verb is not ("get" or "create" or "update" or "patch" or "delete"))
            return (false, "can only get, create, update, patch, or delete a CSINode");
        if (a.Subresource.Length > 0) return (false, "cannot authorize CSINode subresources");
        if (a.Verb != "create" && a.Name != node) return (false, "can only access CSINode with the same name as the requesting node");
        return (true, "");
    }

    private static (bool, string) Node(string node, AuthorizationAttributes a)
    {
        switch (a.Subresource, a.Verb)
        {
            case ("", "create" or "update" or "patch"):
                return (true, ""); // NodeRestriction limits the node to its own Node object
            case ("", "get" or "list" or "watch"):
                if (a.Name == node) return (true, "");
                return a.Name.Length == 0
                    ? (false, $"node '{node}' cannot read all nodes, only its own Node object")
                    : (false, $"node '{node}' cannot read '{a.Name}', only its own Node object");
            case ("status", "update" or "patch"):
                return (true, "");
        }
        return (false, "");
    }

    private (bool, string) Pod(string node, AuthorizationAttributes a)
    {
        switch (a.Subresource, a.Verb)
        {
            case ("", "get"):
                return Get(node, NodeGraph.Pod, a);
            case ("", "list" or "watch"):
                if (a.SelectsField("spec.nodeName", node)) return (true, "");
                if (a.Name.Length > 0) return Related(node, NodeGraph.Pod, a);
                return (false, "can only list/watch pods with spec.nodeName field selector");
            case ("", "create" or "delete"):
            case ("status", "update" or "patch"):
            case ("eviction", "create"):
                return (true, ""); // NodeRestriction limits these to pods bound to the node
        }
        return (false, "");
    }
}
