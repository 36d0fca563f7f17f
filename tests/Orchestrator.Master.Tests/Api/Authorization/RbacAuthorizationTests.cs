using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Controllers.Rbac;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>RBAC as kube-apiserver evaluates it: request attributes, rule matching, bindings to users, groups and
/// service accounts, kube's 403 wording, rule coverage for escalation, and the aggregation of ClusterRoles.</summary>
public sealed class RbacAuthorizationTests
{
    private static readonly UserInfo Jane = UserInfo.Of("jane", ["devs"]);

    private static AuthorizationAttributes Request(UserInfo user, string method, string path, string query = "") =>
        AuthorizationAttributes.Of(user, method, path, new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)));

    private static V1PolicyRule Rule(string[] groups, string[] resources, string[] verbs, string[]? names = null) =>
        new() { ApiGroups = groups, Resources = resources, Verbs = verbs, ResourceNames = names };

    private static V1ClusterRole ClusterRole(string name, params V1PolicyRule[] rules) =>
        new() { Metadata = new V1ObjectMeta { Name = name }, Rules = rules };

    private static V1RoleBinding RoleBinding(string ns, string name, string kind, string role, params Rbacv1Subject[] subjects) =>
        new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = kind, Name = role }, Subjects = subjects,
        };

    private static Rbacv1Subject User(string name) => new() { Kind = "User", Name = name };

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "", "list", "", "pods", "", "a", "")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "watch=true", "watch", "", "pods", "", "a", "")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name%3Dweb", "list", "", "pods", "", "a", "web")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name%3D%3Dweb%5C%2C1", "list", "", "pods", "", "a", "web,1")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name%3Da%3Db", "list", "", "pods", "", "a", "")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name%3Dx&fieldSelector=metadata.name%3Dy", "list", "", "pods", "", "a", "x")]
    [InlineData("GET", "/api/v1/namespaces/a/pods/web/log", "", "get", "", "pods", "log", "a", "web")]
    [InlineData("DELETE", "/apis/apps/v1/namespaces/a/deployments", "", "deletecollection", "apps", "deployments", "", "a", "")]
    [InlineData("PATCH", "/apis/apps/v1/namespaces/a/deployments/web/scale", "", "patch", "apps", "deployments", "scale", "a", "web")]
    [InlineData("GET", "/api/v1/namespaces/a", "", "get", "", "namespaces", "", "a", "a")]
    [InlineData("PUT", "/api/v1/namespaces/a/status", "", "update", "", "namespaces", "status", "a", "a")]
    [InlineData("GET", "/api/v1/nodes/n1/proxy/stats/summary", "", "get", "", "nodes", "proxy", "", "n1")]
    [InlineData("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "", "create", "rbac.authorization.k8s.io", "clusterroles", "", "", "")]
    public void Resource_requests_are_parsed_as_the_request_info_factory_does(string method, string path, string query,
        string verb, string group, string resource, string subresource, string ns, string name)
    {
        var a = Request(Jane, method, path, query);
        Assert.True(a.IsResourceRequest);
        Assert.Equal((verb, group, resource, subresource, ns, name), (a.Verb, a.ApiGroup, a.Resource, a.Subresource, a.Namespace, a.Name));
    }

    [Theory]
    [InlineData("GET", "/api/v1", "get")]
    [InlineData("GET", "/apis/apps/v1", "get")]
    [InlineData("GET", "/healthz/etcd", "get")]
    [InlineData("POST", "/version", "post")]
    public void Discovery_and_other_paths_are_non_resource_requests(string method, string path, string verb)
    {
        var a = Request(Jane, method, path);
        Assert.False(a.IsResourceRequest);
        Assert.Equal((verb, path), (a.Verb, a.Path));
    }

    [Fact]
    public void Rules_match_groups_resources_subresources_names_verbs_and_urls()
    {
        var pods = Request(Jane, "GET", "/api/v1/namespaces/a/pods/web");
        Assert.True(RbacRules.Allows(pods, Rule([""], ["pods"], ["get"])));
        Assert.True(RbacRules.Allows(pods, Rule(["*"], ["*"], ["*"])));
        Assert.False(RbacRules.Allows(pods, Rule(["apps"], ["pods"], ["get"])));
        Assert.False(RbacRules.Allows(pods, Rule([""], ["pods"], ["list"])));
        Assert.True(RbacRules.Allows(pods, Rule([""], ["pods"], ["get"], ["web"])));
        Assert.False(RbacRules.Allows(pods, Rule([""], ["pods"], ["get"], ["db"])));

        var log = Request(Jane, "GET", "/api/v1/namespaces/a/pods/web/log");
        Assert.False(RbacRules.Allows(log, Rule([""], ["pods"], ["get"])));
        Assert.True(RbacRules.Allows(log, Rule([""], ["pods/log"], ["get"])));
        Assert.True(RbacRules.Allows(log, Rule([""], ["*/log"], ["get"])));
        Assert.False(RbacRules.Allows(log, Rule([""], ["*/status"], ["get"])));

        var health = Request(Jane, "GET", "/healthz/etcd");
        Assert.True(RbacRules.Allows(health, new V1PolicyRule { NonResourceURLs = ["/healthz/*"], Verbs = ["get"] }));
        Assert.True(RbacRules.Allows(health, new V1PolicyRule { NonResourceURLs = ["*"], Verbs = ["get"] }));
        Assert.False(RbacRules.Allows(health, new V1PolicyRule { NonResourceURLs = ["/healthz"], Verbs = ["get"] }));
        Assert.False(RbacRules.Allows(health, Rule(["*"], ["*"], ["*"]))); // resource rules never allow paths
    }

    [Fact]
    public void Bindings_apply_to_users_groups_and_service_accounts_in_their_namespace()
    {
        var view = ClusterRole("view", Rule([""], ["pods"], ["get", "list"]));
        var policy = new RbacPolicy([view], [], [],
        [
            RoleBinding("a", "jane-view", "ClusterRole", "view", User("jane")),
            RoleBinding("b", "devs-view", "ClusterRole", "view", new Rbacv1Subject { Kind = "Group", Name = "devs" }),
            RoleBinding("c", "sa-view", "ClusterRole", "view", new Rbacv1Subject { Kind = "ServiceAccount", Name = "robot" }),
        ]);
        Assert.True(policy.Authorize(Request(Jane, "GET", "/api/v1/namespaces/a/pods")).Allowed);
        Assert.True(policy.Authorize(Request(Jane, "GET", "/api/v1/namespaces/b/pods")).Allowed);
        Assert.False(policy.Authorize(Request(Jane, "GET", "/api/v1/namespaces/c/pods")).Allowed);
        Assert.False(policy.Authorize(Request(Jane, "GET", "/api/v1/pods")).Allowed); // a RoleBinding grants no cluster scope
        Assert.False(policy.Authorize(Request(Jane, "DELETE", "/api/v1/namespaces/a/pods/web")).Allowed);

        var robot = UserInfo.Of("system:serviceaccount:c:robot", ["system:serviceaccounts", "system:serviceaccounts:c"]);
        var (allowed, reason) = policy.Authorize(Request(robot, "GET", "/api/v1/namespaces/c/pods"));
        Assert.True(allowed);
        Assert.Equal("RBAC: allowed by RoleBinding \"sa-view/c\" of ClusterRole \"view\" to ServiceAccount \"robot/c\"", reason);
        Assert.False(policy.Authorize(Request(UserInfo.Of("system:serviceaccount:a:robot", []), "GET", "/api/v1/namespaces/c/pods")).Allowed);
    }

    [Fact]
    public void A_missing_role_is_the_reason_of_a_denial()
    {
        var policy = new RbacPolicy([], [], [], [RoleBinding("a", "b", "Role", "gone", User("jane"))]);
        var (allowed, reason) = policy.Authorize(Request(Jane, "GET", "/api/v1/namespaces/a/pods"));
        Assert.False(allowed);
        Assert.Equal("RBAC: role.rbac.authorization.k8s.io \"gone\" not found", reason);
    }

    [Fact]
    public void Denials_are_worded_as_kube_apiserver_words_them()
    {
        var delete = Request(Jane, "DELETE", "/api/v1/namespaces/a/pods/web");
        var e = RbacAuthorizer.Forbidden(delete, "");
        Assert.Equal(403, e.Code);
        Assert.Equal("pods \"web\" is forbidden: User \"jane\" cannot delete resource \"pods\" in API group \"\" in the namespace \"a\"", e.Message);

        var list = Request(Jane, "GET", "/apis/apps/v1/deployments");
        Assert.Equal("deployments.apps is forbidden: User \"jane\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope",
            RbacAuthorizer.Forbidden(list, "").Message);

        var scale = Request(Jane, "GET", "/apis/apps/v1/namespaces/a/deployments/web/scale");
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"jane\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"a\"",
            RbacAuthorizer.Forbidden(scale, "").Message);

        Assert.Equal("forbidden: User \"jane\" cannot get path \"/metrics\"", RbacAuthorizer.Forbidden(Request(Jane, "GET", "/metrics"), "").Message);
    }

    [Fact]
    public void System_masters_are_allowed_everything_without_any_binding()
    {
        var cache = new RbacCache(null!);
        var authorizer = new RbacAuthorizer(cache);
        Assert.True(authorizer.Allows(Request(UserInfo.Admin, "DELETE", "/api/v1/nodes/n1")));
        Assert.False(authorizer.Allows(Request(Jane, "GET", "/api/v1/nodes")));
    }

    [Fact]
    public void Coverage_breaks_rules_down_and_names_what_is_missing()
    {
        IReadOnlyList<V1PolicyRule> owner = [Rule([""], ["pods", "*/status"], ["get", "list"]), new V1PolicyRule { NonResourceURLs = ["/apis/*"], Verbs = ["get"] }];
        Assert.True(RbacRules.Covers(owner, [Rule([""], ["pods", "services/status"], ["get"])]).Covered);
        Assert.True(RbacRules.Covers(owner, [Rule([""], ["pods"], ["get"], ["web"])]).Covered);
        Assert.True(RbacRules.Covers(owner, [new V1PolicyRule { NonResourceURLs = ["/apis/apps"], Verbs = ["get"] }]).Covered);

        var (covered, missing) = RbacRules.Covers(owner, [Rule(["", "apps"], ["pods"], ["get", "delete"])]);
        Assert.False(covered);
        Assert.Equal(["{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}", "{APIGroups:[\"apps\"], Resources:[\"pods\"], Verbs:[\"get\" \"delete\"]}"],
            RbacRules.Compact(missing).Select(RbacRules.CompactString).Order(StringComparer.Ordinal));

        // a rule limited to names does not cover the unnamed rule
        Assert.False(RbacRules.Covers([Rule([""], ["pods"], ["get"], ["web"])], [Rule([""], ["pods"], ["get"])]).Covered);
    }

    [Fact]
    public void Aggregated_roles_gather_the_rules_of_the_roles_they_select_once_in_name_order()
    {
        var aggregate = new V1AggregationRule
        {
            ClusterRoleSelectors = [new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["agg"] = "true" } }],
        };
        var view = new V1ClusterRole { Metadata = new V1ObjectMeta { Name = "view", Labels = new Dictionary<string, string> { ["agg"] = "true" } }, AggregationRule = aggregate };
        var b = new V1ClusterRole { Metadata = new V1ObjectMeta { Name = "b", Labels = new Dictionary<string, string> { ["agg"] = "true" } }, Rules = [Rule([""], ["pods"], ["get"]), Rule([""], ["services"], ["get"])] };
        var a = new V1ClusterRole { Metadata = new V1ObjectMeta { Name = "a", Labels = new Dictionary<string, string> { ["agg"] = "true" } }, Rules = [Rule([""], ["pods"], ["get"])] };
        var other = new V1ClusterRole { Metadata = new V1ObjectMeta { Name = "c" }, Rules = [Rule(["*"], ["*"], ["*"])] };

        var rules = ClusterRoleAggregationController.Aggregate(view, aggregate, [view, b, other, a]);

        Assert.Equal(["pods", "services"], rules.Select(r => r.Resources.Single()));
    }

    [Fact]
    public void The_bootstrap_policy_binds_cluster_admin_to_system_masters_and_aggregates_view_into_edit_into_admin()
    {
        var roles = BootstrapPolicy.ClusterRoles().ToDictionary(r => r.Metadata.Name);
        Assert.All(roles.Values, r => Assert.Equal("rbac-defaults", r.Metadata.Labels[BootstrapPolicy.BootstrappingLabel]));
        Assert.Equal("true", roles["view"].Metadata.Labels[BootstrapPolicy.AggregateToEdit]);
        Assert.Equal("true", roles["edit"].Metadata.Labels[BootstrapPolicy.AggregateToAdmin]);
        var admin = BootstrapPolicy.ClusterRoleBindings().Single(b => b.Metadata.Name == "cluster-admin");
        Assert.Equal("system:masters", admin.Subjects.Single().Name);
    }
}
