using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Bodies;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>The Node authorizer before RBAC (--authorization-mode=Node,RBAC) and the NodeRestriction admission: a
/// node's credentials reach its own Node, Lease and pods and what those pods use — not another Node, nor a Deployment.</summary>
public sealed class NodeAuthorizationTests
{
    private static readonly UserInfo Node1 = UserInfo.Of("system:node:node1", ["system:nodes"]);
    private static readonly RequestBodies Bodies = new(new ProtobufBodies());

    private static AuthorizationAttributes Request(UserInfo user, string method, string path, string query = "") =>
        AuthorizationAttributes.Of(user, method, path, new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)));

    private static V1Pod Pod(string name, string node, string uid = "uid-1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = uid, Labels = new Dictionary<string, string> { ["app"] = "web" } },
        Spec = new V1PodSpec
        {
            NodeName = node, ServiceAccountName = "robot",
            Containers = [new V1Container { Name = "c", Env = [new V1EnvVar { Name = "X", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "db", Key = "k" } } }] }],
            Volumes = [new V1Volume { Name = "cfg", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } },
                       new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "data" } }],
        },
    };

    private static (RbacAuthorizer Authorizer, NodeGraphCache Graph) Cluster()
    {
        var graph = new NodeGraphCache(null!);
        graph.Publish(new NodeGraph(
            [Pod("web-1", "node1"), Rename(Pod("other", "node2", "uid-2"), "db2", "settings2", "data2")],
            [new V1PersistentVolumeClaim { Metadata = new V1ObjectMeta { Name = "data", NamespaceProperty = "default" }, Spec = new V1PersistentVolumeClaimSpec { VolumeName = "pv-1" } }],
            [new V1PersistentVolume { Metadata = new V1ObjectMeta { Name = "pv-1" }, Spec = new V1PersistentVolumeSpec { ClaimRef = new V1ObjectReference { Name = "data", NamespaceProperty = "default" } } }],
            [new V1Node { Metadata = new V1ObjectMeta { Name = "node1", Uid = "node1-uid" } }, new V1Node { Metadata = new V1ObjectMeta { Name = "node2", Uid = "node2-uid" } }]));
        return (new RbacAuthorizer(new RbacCache(null!), new NodeAuthorizer(graph)), graph);
    }

    private static V1Pod Rename(V1Pod pod, string secret, string configMap, string claim)
    {
        pod.Spec.Containers[0].Env[0].ValueFrom.SecretKeyRef.Name = secret;
        pod.Spec.Volumes[0].ConfigMap.Name = configMap;
        pod.Spec.Volumes[1].PersistentVolumeClaim.ClaimName = claim;
        return pod;
    }

    [Fact]
    public void A_node_reads_only_what_its_pods_use()
    {
        var (authorizer, _) = Cluster();
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/secrets/db")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/configmaps/settings")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/configmaps", "fieldSelector=metadata.name%3Dsettings&watch=true")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/data")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/persistentvolumes/pv-1")));
        Assert.True(authorizer.Allows(Request(Node1, "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token")));

        var (allowed, reason) = authorizer.Authorize(Request(Node1, "GET", "/api/v1/namespaces/default/secrets/db2"));
        Assert.False(allowed);
        Assert.Equal("secrets \"db2\" is forbidden: User \"system:node:node1\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\": " +
                     "no relationship found between node 'node1' and this object",
            RbacAuthorizer.Forbidden(Request(Node1, "GET", "/api/v1/namespaces/default/secrets/db2"), reason).Message);
        Assert.Equal((false, "No Object name found"), authorizer.Authorize(Request(Node1, "GET", "/api/v1/namespaces/default/secrets")));
        Assert.Equal((false, "can only read resources of this type"), authorizer.Authorize(Request(Node1, "DELETE", "/api/v1/namespaces/default/secrets/db")));
        Assert.False(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/data2")));
        Assert.False(authorizer.Allows(Request(Node1, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token")));
    }

    [Fact]
    public void A_node_reads_its_own_node_and_its_pods_and_writes_nothing_else_but_what_the_node_rules_allow()
    {
        var (authorizer, _) = Cluster();
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/nodes/node1")));
        Assert.Equal((false, "node 'node1' cannot read 'node2', only its own Node object"), authorizer.Authorize(Request(Node1, "GET", "/api/v1/nodes/node2")));
        Assert.Equal((false, "node 'node1' cannot read all nodes, only its own Node object"), authorizer.Authorize(Request(Node1, "GET", "/api/v1/nodes")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dnode1")));
        Assert.Equal((false, "can only list/watch pods with spec.nodeName field selector"), authorizer.Authorize(Request(Node1, "GET", "/api/v1/pods")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/pods/web-1")));
        Assert.False(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/pods/other")));
        Assert.True(authorizer.Allows(Request(Node1, "GET", "/api/v1/namespaces/default/services")));
        Assert.True(authorizer.Allows(Request(Node1, "POST", "/api/v1/namespaces/default/events")));
        Assert.True(authorizer.Allows(Request(Node1, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1")));
        Assert.Equal((false, "can only access node lease with the same name as the requesting node"),
            authorizer.Authorize(Request(Node1, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node2")));

        var deployment = Request(Node1, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web");
        Assert.False(authorizer.Allows(deployment));
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"system:node:node1\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"default\"",
            RbacAuthorizer.Forbidden(deployment, authorizer.Authorize(deployment).Reason).Message);
        Assert.False(authorizer.Allows(Request(Node1, "DELETE", "/api/v1/nodes/node2")));
    }

    [Fact]
    public void Users_outside_system_nodes_are_not_nodes()
    {
        var (authorizer, _) = Cluster();
        Assert.False(authorizer.Allows(Request(UserInfo.Of("system:node:node1", []), "GET", "/api/v1/nodes/node1")));
        var nodes = new NodeAuthorizer(new NodeGraphCache(null!));
        Assert.Equal((false, "unknown node for user \"system:node:\""), nodes.Authorize(Request(UserInfo.Of("system:node:", ["system:nodes"]), "GET", "/api/v1/nodes/x")));
        Assert.Equal((false, ""), nodes.Authorize(Request(UserInfo.Of("kubelet", ["system:nodes"]), "GET", "/api/v1/nodes/x")));
    }

    [Fact]
    public async Task NodeRestriction_refuses_another_nodes_object_and_pods_bound_elsewhere()
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);

        async Task<string?> Refusal(string method, string path)
        {
            try
            {
                await restriction.CheckRequestAsync(new DefaultHttpContext(), Request(Node1, method, path));
                return null;
            }
            catch (ApiException e)
            {
                Assert.Equal(403, e.Code);
                return e.Message;
            }
        }

        Assert.Equal("nodes \"node2\" is forbidden: node \"node1\" is not allowed to modify node \"node2\"", await Refusal("PATCH", "/api/v1/nodes/node2"));
        Assert.Equal("nodes \"node2\" is forbidden: node \"node1\" is not allowed to modify node \"node2\"", await Refusal("PUT", "/api/v1/nodes/node2/status"));
        Assert.Equal("nodes \"node2\" is forbidden: node \"node1\" is not allowed to modify node \"node2\"", await Refusal("DELETE", "/api/v1/nodes/node2"));
        Assert.Null(await Refusal("PATCH", "/api/v1/nodes/node1/status"));
        Assert.Equal("pods \"other\" is forbidden: node \"node1\" can only delete pods with spec.nodeName set to itself",
            await Refusal("DELETE", "/api/v1/namespaces/default/pods/other"));
        Assert.Null(await Refusal("DELETE", "/api/v1/namespaces/default/pods/web-1"));
        Assert.Equal("pods \"other\" is forbidden: node \"node1\" can only update pod status for pods with spec.nodeName set to itself",
            await Refusal("PATCH", "/api/v1/namespaces/default/pods/other/status"));
        Assert.Equal("pods \"other\" is forbidden: node node1 can only evict pods with spec.nodeName set to itself",
            await Refusal("POST", "/api/v1/namespaces/default/pods/other/eviction"));
        Assert.Equal("pods \"web-1\" is forbidden: unexpected pod subresource \"ephemeralcontainers\", only 'status' and 'eviction' are allowed",
            await Refusal("PATCH", "/api/v1/namespaces/default/pods/web-1/ephemeralcontainers"));
        Assert.Equal("persistentvolumeclaims \"data\" is forbidden: may only update PVC status",
            await Refusal("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/data"));
        Assert.Equal("leases.coordination.k8s.io \"node2\" is forbidden: can only access node lease with the same name as the requesting node",
            await Refusal("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node2"));
        Assert.Null(await Refusal("GET", "/api/v1/namespaces/default/pods/web-1/log"));
    }

    [Fact]
    public async Task A_node_requests_tokens_only_bound_to_its_own_pods()
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);

        async Task<string?> Refusal(string body, string contentType = "application/json")
        {
            var context = TokenContext(body, contentType);
            try
            {
                await restriction.CheckRequestAsync(context, TokenRequest());
                Assert.Equal(0, context.Request.Body.Position); // the handler reads the body again
                return null;
            }
            catch (ApiException e)
            {
                return e.Message;
            }
        }

        Assert.Null(await Refusal("""{"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"web-1","uid":"uid-1"}}}"""));
        Assert.Equal("serviceaccounts \"robot\" is forbidden: node requested token not bound to a pod", await Refusal("""{"spec":{}}"""));
        Assert.Equal("serviceaccounts \"robot\" is forbidden: node requested token with a pod binding without a uid",
            await Refusal("""{"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"web-1"}}}"""));
        Assert.Equal("serviceaccounts \"robot\" is forbidden: node requested token bound to a pod scheduled on a different node",
            await Refusal("""{"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"other","uid":"uid-2"}}}"""));
        Assert.Null(await Refusal("""
            apiVersion: authentication.k8s.io/v1
            kind: TokenRequest
            spec: {boundObjectRef: {apiVersion: v1, kind: Pod, name: web-1, uid: uid-1}}
            """, "application/yaml"));
    }

    [Theory]
    [InlineData("apiVersion", "1", "number")]
    [InlineData("kind", "{}", "object")]
    [InlineData("name", "[\"web-1\"]", "array")]
    [InlineData("uid", "true", "bool")]
    [InlineData("name", "12.5", "number")]
    public async Task A_token_request_with_a_bound_object_field_of_the_wrong_type_is_a_bad_request(string field, string value, string type)
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);
        var reference = new Dictionary<string, string> { ["apiVersion"] = "\"v1\"", ["kind"] = "\"Pod\"", ["name"] = "\"web-1\"", ["uid"] = "\"uid-1\"" };
        reference[field] = value;
        var body = "{\"spec\":{\"boundObjectRef\":{" + string.Join(",", reference.Select(r => $"\"{r.Key}\":{r.Value}")) + "}}}";
        var context = TokenContext(body);

        var e = await Assert.ThrowsAsync<ApiException>(() => restriction.CheckRequestAsync(context, TokenRequest()));

        Assert.Equal((400, "BadRequest"), (e.Code, e.Reason));
        Assert.Equal($"TokenRequest in version \"v1\" cannot be handled as a TokenRequest: json: cannot unmarshal {type} into Go struct field " +
                     $"BoundObjectReference.spec.boundObjectRef.{field} of type string", e.Message);
        Assert.Equal(0, context.Request.Body.Position);
    }

    [Theory]
    [InlineData("""{"spec":{"boundObjectRef":"web-1"}}""",
        "json: cannot unmarshal string into Go struct field TokenRequestSpec.spec.boundObjectRef of type v1.BoundObjectReference")]
    [InlineData("""{"spec":[]}""", "json: cannot unmarshal array into Go struct field TokenRequest.spec of type v1.TokenRequestSpec")]
    [InlineData("""[{"spec":{}}]""", "the body is not a JSON object")]
    public async Task A_token_request_that_is_not_a_TokenRequest_is_a_bad_request(string body, string problem)
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);

        var e = await Assert.ThrowsAsync<ApiException>(() => restriction.CheckRequestAsync(TokenContext(body), TokenRequest()));

        Assert.Equal((400, $"TokenRequest in version \"v1\" cannot be handled as a TokenRequest: {problem}"), (e.Code, e.Message));
    }

    [Fact]
    public async Task A_malformed_token_request_is_a_bad_request()
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);

        var e = await Assert.ThrowsAsync<ApiException>(() => restriction.CheckRequestAsync(TokenContext("""{"spec":"""), TokenRequest()));

        Assert.Equal(400, e.Code);
        Assert.StartsWith("the object provided is unrecognized (must be of type TokenRequest): couldn't get version/kind; json parse error: ", e.Message);
    }

    [Fact]
    public async Task A_token_request_with_null_bound_object_fields_binds_no_pod()
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);

        // null is Go's zero value here, as kube-apiserver decodes it: an empty name, then no pod
        var e = await Assert.ThrowsAsync<ApiException>(() => restriction.CheckRequestAsync(
            TokenContext("""{"spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":null,"uid":"uid-1"}}}"""), TokenRequest()));
        Assert.Equal((403, "serviceaccounts \"robot\" is forbidden: node requested token not bound to a pod"), (e.Code, e.Message));
        e = await Assert.ThrowsAsync<ApiException>(() => restriction.CheckRequestAsync(
            TokenContext("""{"spec":{"boundObjectRef":null}}"""), TokenRequest()));
        Assert.Equal(403, e.Code);
    }

    private static AuthorizationAttributes TokenRequest() => Request(Node1, "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token");

    private static DefaultHttpContext TokenContext(string body, string contentType = "application/json")
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
        return context;
    }

    [Fact]
    public void NodeRestriction_keeps_labels_taints_and_mirror_pods_in_bounds()
    {
        var (_, graph) = Cluster();
        var restriction = new NodeRestriction(graph, Bodies);
        var context = new DefaultHttpContext();
        RequestUser.Set(context, Node1);
        context.Request.Method = "PUT";
        var nodes = Description("nodes");

        var labelled = new V1Node { Metadata = new V1ObjectMeta { Name = "node1", Labels = new Dictionary<string, string>
        {
            ["node-restriction.kubernetes.io/pool"] = "secure", ["kubernetes.io/hostname"] = "node1", ["node-role.kubernetes.io/control-plane"] = "",
            ["topology.kubernetes.io/zone"] = "a", ["example.com/team"] = "x",
        } } };
        var e = Assert.Throws<ApiException>(() => restriction.Admit(context, nodes, labelled, null));
        Assert.Equal("nodes \"node1\" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool, node-role.kubernetes.io/control-plane", e.Message);

        var tainted = new V1Node { Metadata = new V1ObjectMeta { Name = "node1" }, Spec = new V1NodeSpec { Taints = [new V1Taint { Key = "k", Effect = "NoSchedule" }] } };
        Assert.Equal("nodes \"node1\" is forbidden: node \"node1\" is not allowed to modify taints",
            Assert.Throws<ApiException>(() => restriction.Admit(context, nodes, tainted, null)).Message);
        Assert.Equal("nodes \"node2\" is forbidden: node \"node1\" is not allowed to modify node \"node2\"",
            Assert.Throws<ApiException>(() => restriction.Admit(context, nodes, new V1Node { Metadata = new V1ObjectMeta { Name = "node2" } }, null)).Message);

        context.Request.Method = "POST";
        var pods = Description("pods");
        Assert.Equal("pods \"web-2\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"node1\" can only create mirror pods",
            Assert.Throws<ApiException>(() => restriction.Admit(context, pods, Pod("web-2", "node1"), null)).Message);
        var mirror = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = "static-node1", NamespaceProperty = "default", Annotations = new Dictionary<string, string> { ["kubernetes.io/config.mirror"] = "x" },
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = "node1", Uid = "node1-uid", Controller = true }],
            },
            Spec = new V1PodSpec { NodeName = "node1", Containers = [new V1Container { Name = "c" }] },
        };
        restriction.Admit(context, pods, mirror, null);
        mirror.Spec.Volumes = [new V1Volume { Name = "s", Secret = new V1SecretVolumeSource { SecretName = "db" } }];
        Assert.Equal("pods \"static-node1\" is forbidden: node \"node1\" can not create pods that reference secrets",
            Assert.Throws<ApiException>(() => restriction.Admit(context, pods, mirror, null)).Message);

        context.Request.Method = "PUT";
        var relabelled = Pod("web-1", "node1");
        relabelled.Metadata.Labels["app"] = "db";
        Assert.Equal("pods \"web-1\" is forbidden: node \"node1\" cannot update labels through pod status",
            Assert.Throws<ApiException>(() => restriction.AdmitSubresource(context, pods, relabelled, "status", null)).Message);
        restriction.AdmitSubresource(context, pods, Pod("web-1", "node1"), "status", null);
    }

    [Fact]
    public void An_update_is_judged_against_the_handlers_old_object_when_the_graph_has_not_seen_it_yet()
    {
        var context = new DefaultHttpContext();
        RequestUser.Set(context, Node1);
        context.Request.Method = "PATCH";
        var fresh = new V1Node { Metadata = new V1ObjectMeta { Name = "node1", Labels = new Dictionary<string, string> { ["node-role.kubernetes.io/worker"] = "" } } };
        var graphless = new NodeRestriction(new NodeGraphCache(null!), Bodies);
        var patched = new V1Node { Metadata = new V1ObjectMeta { Name = "node1", Labels = new Dictionary<string, string>
        {
            ["node-role.kubernetes.io/worker"] = "", ["node-restriction.kubernetes.io/pool"] = "a",
        } } };

        Assert.Equal("nodes \"node1\" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool",
            Assert.Throws<ApiException>(() => graphless.Admit(context, Description("nodes"), patched, fresh)).Message);
        patched.Metadata.Labels.Remove("node-restriction.kubernetes.io/pool");
        graphless.Admit(context, Description("nodes"), patched, fresh); // a label it had stays
    }

    private static ResourceDescription Description(string resource) => BuiltInResources.All.First(d => d.Resource == resource && d.Group.Length == 0);
}
