using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.Security;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Authorization;

/// <summary>The rules a user holds, kept per policy by (user, groups, namespace): the same answers and reasons as
/// working them out per request, for each user, group set and namespace apart, and a change of any role or binding
/// (a new policy from the informer) seen by the next request.</summary>
public sealed class RbacHeldRulesTests
{
    private static AuthorizationAttributes Request(UserInfo user, string method, string path) =>
        AuthorizationAttributes.Of(user, method, path, new QueryCollection());

    private static V1PolicyRule Rule(string[] resources, string[] verbs, string[]? names = null) =>
        new() { ApiGroups = [""], Resources = resources, Verbs = verbs, ResourceNames = names };

    private static V1ClusterRole ClusterRole(string name, params V1PolicyRule[] rules) =>
        new() { Metadata = new V1ObjectMeta { Name = name }, Rules = rules };

    private static V1RoleBinding RoleBinding(string ns, string name, string role, Rbacv1Subject subject) =>
        new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = role }, Subjects = [subject],
        };

    private static Rbacv1Subject Group(string name) => new() { Kind = "Group", Name = name };

    [Fact]
    public void Rules_are_held_per_user_groups_and_namespace_and_answer_as_before()
    {
        var policy = new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"]))], [], [],
            [RoleBinding("a", "devs-view", "view", Group("devs")), RoleBinding("a", "gone", "missing", Group("ops"))]);
        var dev = UserInfo.Of("jane", ["devs"]);
        var notDev = UserInfo.Of("jane", []);
        for (var round = 0; round < 2; round++)
        {
            Assert.Equal((true, "RBAC: allowed by RoleBinding \"devs-view/a\" of ClusterRole \"view\" to Group \"devs\""),
                policy.Authorize(Request(dev, "GET", "/api/v1/namespaces/a/configmaps/x")));
            Assert.Equal((false, ""), policy.Authorize(Request(dev, "DELETE", "/api/v1/namespaces/a/configmaps/x")));
            Assert.Equal((false, ""), policy.Authorize(Request(notDev, "GET", "/api/v1/namespaces/a/configmaps/x")));
            Assert.Equal((false, ""), policy.Authorize(Request(dev, "GET", "/api/v1/namespaces/b/configmaps/x")));
            Assert.Equal((false, "RBAC: clusterrole.rbac.authorization.k8s.io \"missing\" not found"),
                policy.Authorize(Request(UserInfo.Of("joe", ["ops"]), "GET", "/api/v1/namespaces/a/configmaps/x")));
        }
        // jane in devs in a, jane in no group in a, jane in devs in b, joe in ops in a; the verb and name are not part of it
        Assert.Equal(4, policy.HeldCount);
        var (rules, errors) = policy.RulesFor(dev, "a");
        Assert.Equal(["configmaps"], rules.Single().Resources);
        Assert.Empty(errors);
        Assert.Equal(["clusterrole.rbac.authorization.k8s.io \"missing\" not found"], policy.RulesFor(UserInfo.Of("joe", ["ops"]), "a").Errors);
    }

    [Fact]
    public void A_changed_role_or_binding_is_seen_by_the_next_request()
    {
        var cache = new RbacCache(null!);
        var authorizer = new RbacAuthorizer(cache);
        var jane = UserInfo.Of("jane", ["devs"]);
        var get = Request(jane, "GET", "/api/v1/namespaces/a/configmaps/x");
        var binding = RoleBinding("a", "devs-view", "view", Group("devs"));

        cache.Publish(new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"]))], [], [], [binding]));
        Assert.True(authorizer.Allows(get));
        Assert.True(authorizer.Allows(get));

        // the role no longer grants get
        cache.Publish(new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["list"]))], [], [], [binding]));
        Assert.False(authorizer.Allows(get));

        // granted again, then the binding removed
        cache.Publish(new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"]))], [], [], [binding]));
        Assert.True(authorizer.Allows(get));
        cache.Publish(new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"]))], [], [], []));
        Assert.False(authorizer.Allows(get));

        // a name-limited rule: held rules are matched against each request's name
        cache.Publish(new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"], ["x"]))], [], [], [binding]));
        Assert.True(authorizer.Allows(get));
        Assert.False(authorizer.Allows(Request(jane, "GET", "/api/v1/namespaces/a/configmaps/y")));
    }

    [Fact]
    public void A_users_group_list_changed_after_a_request_does_not_change_what_was_held_for_it()
    {
        var policy = new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"]))], [], [],
            [RoleBinding("a", "devs-view", "view", Group("devs"))]);
        var groups = new List<string> { "devs" };
        var user = new UserInfo("jane", "", groups, UserInfo.NoExtra);
        Assert.True(policy.Authorize(Request(user, "GET", "/api/v1/namespaces/a/configmaps/x")).Allowed);
        groups[0] = "others";
        Assert.False(policy.Authorize(Request(user, "GET", "/api/v1/namespaces/a/configmaps/x")).Allowed);
        Assert.True(policy.Authorize(Request(UserInfo.Of("jane", ["devs"]), "GET", "/api/v1/namespaces/a/configmaps/x")).Allowed);
    }

    [Fact]
    public void Past_the_bound_rules_are_worked_out_per_request_with_the_same_answers()
    {
        var policy = new RbacPolicy([ClusterRole("view", Rule(["configmaps"], ["get"]))], [], [],
            [RoleBinding("a", "devs-view", "view", Group("devs"))]);
        for (var i = 0; i < RbacPolicy.MaxHeld + 10; i++)
        {
            Assert.True(policy.Authorize(Request(UserInfo.Of("user" + i, ["devs"]), "GET", "/api/v1/namespaces/a/configmaps/x")).Allowed);
            Assert.False(policy.Authorize(Request(UserInfo.Of("user" + i, []), "GET", "/api/v1/namespaces/a/configmaps/x")).Allowed);
        }
        Assert.Equal(RbacPolicy.MaxHeld, policy.HeldCount);
    }
}
