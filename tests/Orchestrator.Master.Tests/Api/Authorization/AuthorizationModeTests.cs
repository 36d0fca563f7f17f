using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>--authorization-mode as kube-apiserver reads it, and the chain as kube's union authorizer runs it: the
/// first mode that allows decides, no opinion goes on, the reasons of all that had none are joined.</summary>
public sealed class AuthorizationModeTests
{
    private static readonly UserInfo Jane = UserInfo.Of("jane", ["devs"]);
    private static readonly UserInfo Node1 = UserInfo.Of("system:node:node1", ["system:nodes"]);

    private static AuthorizationAttributes Request(UserInfo user, string method, string path) =>
        AuthorizationAttributes.Of(user, method, path, new QueryCollection());

    /// <summary>jane may get configmaps in a (RBAC); nobody else has any binding.</summary>
    private static RbacAuthorizer Chain(string modes)
    {
        var cache = new RbacCache(null!);
        cache.Publish(new RbacPolicy(
            [new V1ClusterRole
            {
                Metadata = new() { Name = "view" },
                Rules = [new() { ApiGroups = [""], Resources = ["configmaps"], Verbs = ["get"] }],
            }],
            [], [],
            [new V1RoleBinding
            {
                Metadata = new() { Name = "jane-view", NamespaceProperty = "a" },
                RoleRef = new() { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = "view" },
                Subjects = [new() { Kind = "User", Name = "jane" }],
            }]));
        return new RbacAuthorizer(cache, new NodeAuthorizer(new NodeGraphCache(null!)),
            new AuthorizationSettings(AuthorizationSettings.ParseModes(modes)));
    }

    [Theory]
    [InlineData("Node,RBAC", "Node RBAC")]
    [InlineData("RBAC,AlwaysAllow", "RBAC AlwaysAllow")]
    [InlineData(" AlwaysDeny , Node ", "AlwaysDeny Node")]
    public void Modes_are_read_in_order(string value, string modes) =>
        Assert.Equal(modes, string.Join(" ", AuthorizationSettings.ParseModes(value)));

    [Theory]
    [InlineData("ABAC", "\"ABAC\" is not implemented by orchestrator-master")]
    [InlineData("RBAC,Webhook", "\"Webhook\" is not implemented by orchestrator-master")]
    [InlineData("RBAC,rbac", "\"rbac\" is not a valid mode")]
    [InlineData("Node,RBAC,Node", "\"[Node RBAC Node]\" has mode specified more than once")]
    [InlineData(",", "needs at least one mode")]
    public void Unknown_unimplemented_repeated_or_no_modes_are_refused(string value, string problem)
    {
        Assert.StartsWith(problem, AuthorizationSettings.ModesProblem(value));
        var e = Assert.Throws<FormatException>(() => AuthorizationSettings.ParseModes(value));
        Assert.StartsWith("--authorization-mode " + problem, e.Message);
    }

    [Fact]
    public void The_default_chain_is_node_then_rbac_and_denies_what_neither_allows()
    {
        var chain = Chain(AuthorizationSettings.DefaultModes);
        Assert.True(chain.Allows(Request(Jane, "GET", "/api/v1/namespaces/a/configmaps/x")));
        Assert.Equal((false, ""), chain.Authorize(Request(Jane, "DELETE", "/api/v1/namespaces/a/configmaps/x")));
        Assert.True(chain.Allows(Request(Node1, "GET", "/api/v1/nodes/node1")));
        Assert.Equal((false, "node 'node1' cannot read 'node2', only its own Node object"),
            chain.Authorize(Request(Node1, "GET", "/api/v1/nodes/node2")));
        // without Node in the chain the node user has only what RBAC gives it: nothing here
        Assert.False(Chain("RBAC").Allows(Request(Node1, "GET", "/api/v1/nodes/node1")));
    }

    [Fact]
    public void AlwaysAllow_allows_what_earlier_modes_have_no_opinion_on()
    {
        var chain = Chain("RBAC,AlwaysAllow");
        Assert.Equal((true, ""), chain.Authorize(Request(Jane, "DELETE", "/api/v1/namespaces/a/configmaps/x")));
        Assert.True(chain.Allows(Request(UserInfo.Of("nobody", []), "POST",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles")));
        Assert.True(chain.Allows(Request(UserInfo.Of("nobody", []), "GET", "/metrics")));
        // RBAC came first and allowed: its reason is the answer's
        Assert.StartsWith("RBAC: allowed by RoleBinding",
            chain.Authorize(Request(Jane, "GET", "/api/v1/namespaces/a/configmaps/x")).Reason);
    }

    [Fact]
    public void AlwaysDeny_has_no_opinion_so_a_later_mode_may_allow_and_its_reason_is_joined()
    {
        Assert.Equal((false, "Everything is forbidden."),
            Chain("RBAC,AlwaysDeny").Authorize(Request(Jane, "DELETE", "/api/v1/namespaces/a/configmaps/x")));
        Assert.True(Chain("RBAC,AlwaysDeny").Allows(Request(Jane, "GET", "/api/v1/namespaces/a/configmaps/x")));
        Assert.True(Chain("AlwaysDeny,AlwaysAllow")
            .Allows(Request(Jane, "DELETE", "/api/v1/namespaces/a/configmaps/x")));
        Assert.Equal((false, "node 'node1' cannot read 'node2', only its own Node object\nEverything is forbidden."),
            Chain("Node,AlwaysDeny").Authorize(Request(Node1, "GET", "/api/v1/nodes/node2")));
        Assert.False(Chain("AlwaysDeny").Allows(Request(Jane, "GET", "/api/v1/namespaces/a/configmaps/x")));
        // system:masters still may do anything
        Assert.True(Chain("AlwaysDeny").Allows(Request(UserInfo.Admin, "DELETE", "/api/v1/nodes/n1")));
    }

    [Fact]
    public void Rules_are_every_modes_rules_in_order()
    {
        var (rbacOnly, errors, incomplete) = Chain("Node,RBAC").RulesFor(Jane, "a");
        Assert.Equal(["configmaps"], rbacOnly.Single().Resources);
        Assert.Empty(errors);
        Assert.False(incomplete);

        var (all, _, _) = Chain("RBAC,AlwaysAllow").RulesFor(Jane, "b");
        Assert.Equal(2, all.Count);
        Assert.Equal(["*"], all[0].Resources);
        Assert.Equal(["*"], all[0].ApiGroups);
        Assert.Equal(["*"], all[0].Verbs);
        Assert.Equal(["*"], all[1].NonResourceURLs);

        var (none, _, _) = Chain("AlwaysDeny").RulesFor(Jane, "a");
        Assert.Empty(none);

        var (_, nodeErrors, nodeIncomplete) = Chain("Node,RBAC").RulesFor(Node1, "a");
        Assert.True(nodeIncomplete);
        Assert.Equal(["node authorizer does not support user rule resolution"], nodeErrors);
        Assert.False(Chain("RBAC").RulesFor(Node1, "a").Incomplete);
    }
}
