using k8s.Models;
using Microsoft.AspNetCore.Http;
using Orchestrator.Master.Api.Authorization;
using Orchestrator.Master.Api.FlowControl;
using Orchestrator.Master.Api.Security;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Api.FlowControl;

public class FlowControlClassificationTests
{
    private static readonly FlowControlConfiguration Bootstrap = new(
        [.. FlowControlDefaults.MandatoryFlowSchemas(), .. FlowControlDefaults.SuggestedFlowSchemas()],
        [.. FlowControlDefaults.MandatoryPriorityLevels(), .. FlowControlDefaults.SuggestedPriorityLevels()], 600);

    private static AuthorizationAttributes Request(UserInfo user, string method, string path, string query = "") =>
        AuthorizationAttributes.Of(user, method, path, new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)));

    private static string SchemaOf(FlowControlConfiguration configuration, UserInfo user, string method, string path, string query = "") =>
        configuration.Classify(Request(user, method, path, query)).Schema.Metadata.Name;

    [Fact]
    public void Bootstrap_schemas_classify_as_kube_does()
    {
        var admin = UserInfo.Of("admin", [UserInfo.SystemMasters]);
        var alice = UserInfo.Of("alice", []);
        var node = UserInfo.Of("system:node:n1", ["system:nodes"]);
        var systemSa = UserInfo.Of("system:serviceaccount:kube-system:endpoint-controller", ["system:serviceaccounts", "system:serviceaccounts:kube-system"]);
        var sa = UserInfo.Of("system:serviceaccount:default:builder", ["system:serviceaccounts", "system:serviceaccounts:default"]);
        var anonymous = new UserInfo(UserInfo.Anonymous, "", [UserInfo.AllUnauthenticated], UserInfo.NoExtra);

        Assert.Equal("exempt", SchemaOf(Bootstrap, admin, "GET", "/api/v1/pods"));
        Assert.Equal("global-default", SchemaOf(Bootstrap, alice, "GET", "/api/v1/namespaces/default/pods"));
        Assert.Equal("probes", SchemaOf(Bootstrap, alice, "GET", "/readyz"));
        Assert.Equal("probes", SchemaOf(Bootstrap, anonymous, "GET", "/healthz/etcd")); // "/healthz" covers what lies below it
        Assert.Equal("global-default", SchemaOf(Bootstrap, anonymous, "GET", "/version"));
        Assert.Equal("system-node-high", SchemaOf(Bootstrap, node, "PATCH", "/api/v1/nodes/n1/status"));
        Assert.Equal("system-node-high", SchemaOf(Bootstrap, node, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"));
        Assert.Equal("system-nodes", SchemaOf(Bootstrap, node, "GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1"));
        Assert.Equal("endpoint-controller", SchemaOf(Bootstrap, systemSa, "PUT", "/api/v1/namespaces/default/endpoints/web"));
        Assert.Equal("kube-system-service-accounts", SchemaOf(Bootstrap, systemSa, "DELETE", "/api/v1/namespaces/default/endpoints/web"));
        Assert.Equal("system-leader-election", SchemaOf(Bootstrap, systemSa, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x"));
        Assert.Equal("service-accounts", SchemaOf(Bootstrap, sa, "GET", "/api/v1/namespaces/default/configmaps"));
    }

    [Fact]
    public void The_lowest_precedence_wins_and_equal_precedences_go_by_name()
    {
        var schemas = new[] { Schema("b-second", 100, "workload-low", "team"), Schema("a-first", 100, "workload-high", "team"), Schema("late", 50, "system", "other") };
        var configuration = new FlowControlConfiguration(schemas, FlowControlDefaults.SuggestedPriorityLevels(), 600);
        Assert.Equal("a-first", SchemaOf(configuration, UserInfo.Of("bob", ["team"]), "GET", "/api/v1/pods"));
        Assert.Equal("late", SchemaOf(configuration, UserInfo.Of("bob", ["team", "other"]), "GET", "/api/v1/pods"));
    }

    [Fact]
    public void A_schema_whose_level_is_missing_is_skipped_and_catch_all_stands_in_for_what_matches_nothing()
    {
        var configuration = new FlowControlConfiguration([Schema("dangling", 100, "no-such-level", "team")], [], 600);
        Assert.Equal("catch-all", SchemaOf(configuration, UserInfo.Of("bob", ["team"]), "GET", "/api/v1/pods"));
        // no group at all: not even catch-all's subjects match, and catch-all still takes it
        Assert.Equal("catch-all", SchemaOf(configuration, new UserInfo("nobody", "", [], UserInfo.NoExtra), "GET", "/api/v1/pods"));
    }

    [Fact]
    public void Resource_rules_match_subresources_namespaces_and_cluster_scope()
    {
        var rule = new V1ResourcePolicyRule { Verbs = ["get", "list"], ApiGroups = [""], Resources = ["pods/log", "nodes"], Namespaces = ["dev"], ClusterScope = true };
        var fs = Schema("logs", 100, "workload-low", "team");
        fs.Spec.Rules[0].ResourceRules = [rule];
        fs.Spec.Rules[0].NonResourceRules = null;
        var configuration = new FlowControlConfiguration([fs], FlowControlDefaults.SuggestedPriorityLevels(), 600);
        var bob = UserInfo.Of("bob", ["team"]);
        Assert.Equal("logs", SchemaOf(configuration, bob, "GET", "/api/v1/namespaces/dev/pods/p/log"));
        Assert.Equal("catch-all", SchemaOf(configuration, bob, "GET", "/api/v1/namespaces/dev/pods/p"));
        Assert.Equal("catch-all", SchemaOf(configuration, bob, "GET", "/api/v1/namespaces/prod/pods/p/log"));
        Assert.Equal("logs", SchemaOf(configuration, bob, "GET", "/api/v1/nodes"));
        Assert.Equal("catch-all", SchemaOf(configuration, bob, "DELETE", "/api/v1/nodes/n1"));
    }

    [Fact]
    public void Service_account_subjects_match_by_namespace_and_name()
    {
        var fs = Schema("robots", 100, "workload-low", "unused");
        fs.Spec.Rules[0].Subjects = [new Flowcontrolv1Subject { Kind = "ServiceAccount", ServiceAccount = new V1ServiceAccountSubject { NamespaceProperty = "ci", Name = "runner" } }];
        var configuration = new FlowControlConfiguration([fs], FlowControlDefaults.SuggestedPriorityLevels(), 600);
        Assert.Equal("robots", SchemaOf(configuration, UserInfo.Of("system:serviceaccount:ci:runner", []), "GET", "/version"));
        Assert.Equal("catch-all", SchemaOf(configuration, UserInfo.Of("system:serviceaccount:ci:runner2", []), "GET", "/version"));
        Assert.Equal("catch-all", SchemaOf(configuration, UserInfo.Of("system:serviceaccount:cis:runner", []), "GET", "/version"));
    }

    [Fact]
    public void Flows_are_distinguished_by_user_or_namespace()
    {
        var alice = UserInfo.Of("alice", []);
        var bob = UserInfo.Of("bob", []);
        var byUser = Bootstrap.Classify(Request(alice, "GET", "/api/v1/namespaces/a/pods")).FlowHash;
        Assert.Equal(byUser, Bootstrap.Classify(Request(alice, "GET", "/api/v1/namespaces/b/pods")).FlowHash);
        Assert.NotEqual(byUser, Bootstrap.Classify(Request(bob, "GET", "/api/v1/namespaces/a/pods")).FlowHash);
        var scheduler = UserInfo.Of("system:kube-scheduler", []);
        Assert.NotEqual(Bootstrap.Classify(Request(scheduler, "GET", "/api/v1/namespaces/a/pods")).FlowHash,
            Bootstrap.Classify(Request(scheduler, "GET", "/api/v1/namespaces/b/pods")).FlowHash);
    }

    [Fact]
    public void Concurrency_limits_follow_the_shares_of_all_levels()
    {
        // ΣNCS of the bootstrap levels: 0 + 5 + 30 + 40 + 10 + 40 + 100 + 20 = 245
        var global = Bootstrap.Levels["global-default"];
        Assert.Equal((49, 25, 24, 600), (global.NominalCL, global.LendableCL, global.MinCL, global.MaxCL)); // ceil(600·20/245), round(49·0.5)
        var catchAll = Bootstrap.Levels["catch-all"];
        Assert.Equal((13, 0), (catchAll.NominalCL, catchAll.LendableCL));
        Assert.Null(catchAll.Queuing);
        Assert.True(Bootstrap.Levels["exempt"].Exempt);
        var capped = Level("capped", 20, lendable: 0, borrowing: 50);
        var limits = new FlowControlConfiguration([], [capped], 100).Levels["capped"];
        Assert.Equal((80, 120), (limits.NominalCL, limits.MaxCL)); // ceil(100·20/25) and 80 + 50 %
    }

    internal static V1FlowSchema Schema(string name, int precedence, string level, string group) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = name + "-uid" },
        Spec = new V1FlowSchemaSpec
        {
            MatchingPrecedence = precedence, PriorityLevelConfiguration = new V1PriorityLevelConfigurationReference { Name = level },
            DistinguisherMethod = new V1FlowDistinguisherMethod { Type = "ByUser" },
            Rules =
            [
                new V1PolicyRulesWithSubjects
                {
                    Subjects = [new Flowcontrolv1Subject { Kind = "Group", Group = new V1GroupSubject { Name = group } }],
                    ResourceRules = [new V1ResourcePolicyRule { Verbs = ["*"], ApiGroups = ["*"], Resources = ["*"], Namespaces = ["*"], ClusterScope = true }],
                    NonResourceRules = [new V1NonResourcePolicyRule { Verbs = ["*"], NonResourceURLs = ["*"] }],
                },
            ],
        },
    };

    internal static V1PriorityLevelConfiguration Level(string name, int shares, int lendable = 0, int? borrowing = null, V1QueuingConfiguration? queuing = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = name + "-uid" },
        Spec = new V1PriorityLevelConfigurationSpec
        {
            Type = "Limited",
            Limited = new V1LimitedPriorityLevelConfiguration
            {
                NominalConcurrencyShares = shares, LendablePercent = lendable, BorrowingLimitPercent = borrowing,
                LimitResponse = queuing is null ? new V1LimitResponse { Type = "Reject" } : new V1LimitResponse { Type = "Queue", Queuing = queuing },
            },
        },
    };
}
