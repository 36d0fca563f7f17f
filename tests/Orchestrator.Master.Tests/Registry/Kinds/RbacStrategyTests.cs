using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Kinds.Rbac;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public class RbacStrategyTests
{
    private static List<StoreErrorCause> Admit(ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        IKubernetesObject<V1ObjectMeta>? old = null) => Strategies.Admit(resource, obj, old);

    private static V1ObjectMeta Meta(string name, string? ns = "default") => new() { Name = name, NamespaceProperty = ns };

    private static V1PolicyRule PodReader() =>
        new() { ApiGroups = [""], Resources = ["pods"], Verbs = ["get", "watch", "list"] };

    [Fact]
    public void A_role_reading_pods_is_accepted()
    {
        Assert.Empty(Admit(RbacResources.Roles, new V1Role { Metadata = Meta("pod-reader"), Rules = [PodReader()] }));
    }

    [Fact]
    public void Rules_need_verbs_api_groups_and_resources()
    {
        var role = new V1Role { Metadata = Meta("r"), Rules = [new V1PolicyRule()] };

        var causes = Admit(RbacResources.Roles, role);

        Assert.Equal(["rules[0].verbs", "rules[0].apiGroups", "rules[0].resources"], causes.Select(c => c.Field));
        Assert.Equal("Required value: verbs must contain at least one value", causes[0].Message);
        Assert.Equal("Required value: resource rules must supply at least one api group", causes[1].Message);
    }

    [Fact]
    public void A_namespaced_role_may_not_name_non_resource_urls()
    {
        var role = new V1Role { Metadata = Meta("r"), Rules = [new V1PolicyRule { NonResourceURLs = ["/healthz"], Verbs = ["get"] }] };

        var cause = Assert.Single(Admit(RbacResources.Roles, role));

        Assert.Equal("rules[0].nonResourceURLs", cause.Field);
        Assert.Equal("Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs", cause.Message);
    }

    [Fact]
    public void A_cluster_role_may_name_non_resource_urls_but_not_with_resources()
    {
        var ok = new V1ClusterRole { Metadata = Meta("health", null), Rules = [new V1PolicyRule { NonResourceURLs = ["/healthz"], Verbs = ["get"] }] };
        Assert.Empty(Admit(RbacResources.ClusterRoles, ok));

        var both = new V1ClusterRole
        {
            Metadata = Meta("both", null),
            Rules = [new V1PolicyRule { NonResourceURLs = ["/healthz"], Resources = ["pods"], Verbs = ["get"] }],
        };
        Assert.EndsWith("rules cannot apply to both regular resources and non-resource URLs", Assert.Single(Admit(RbacResources.ClusterRoles, both)).Message);
    }

    [Fact]
    public void An_aggregation_rule_is_stored_and_needs_a_valid_selector()
    {
        var aggregated = new V1ClusterRole
        {
            Metadata = Meta("monitoring", null),
            AggregationRule = new V1AggregationRule
            {
                ClusterRoleSelectors = [new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["rbac.example.com/aggregate-to-monitoring"] = "true" } }],
            },
        };
        Assert.Empty(Admit(RbacResources.ClusterRoles, aggregated));
        Assert.Single(aggregated.AggregationRule.ClusterRoleSelectors);

        var empty = new V1ClusterRole { Metadata = Meta("e", null), AggregationRule = new V1AggregationRule() };
        var cause = Assert.Single(Admit(RbacResources.ClusterRoles, empty));
        Assert.Equal("aggregationRule.clusterRoleSelectors", cause.Field);
        Assert.Equal("Required value: at least one clusterRoleSelector required if aggregationRule is non-nil", cause.Message);
    }

    [Theory]
    [InlineData("system:controller:foo", 0)]
    [InlineData("..", 1)]
    [InlineData("a/b", 1)]
    [InlineData("a%b/c", 2)]
    public void Role_names_are_path_segments(string name, int problems)
    {
        var causes = Admit(RbacResources.ClusterRoles, new V1ClusterRole { Metadata = Meta(name, null), Rules = [PodReader()] });
        Assert.Equal(problems, causes.Count);
        Assert.All(causes, c => Assert.Equal("metadata.name", c.Field));
    }

    [Fact]
    public void Binding_subjects_and_role_ref_get_the_rbac_group_by_default()
    {
        var binding = new V1RoleBinding
        {
            Metadata = Meta("read-pods"),
            RoleRef = new V1RoleRef { Kind = "Role", Name = "pod-reader" },
            Subjects =
            [
                new Rbacv1Subject { Kind = "User", Name = "jane" },
                new Rbacv1Subject { Kind = "ServiceAccount", Name = "default" },
            ],
        };

        Assert.Empty(Admit(RbacResources.RoleBindings, binding));

        Assert.Equal(RbacResources.Group, binding.RoleRef.ApiGroup);
        Assert.Equal(RbacResources.Group, binding.Subjects[0].ApiGroup);
        Assert.Null(binding.Subjects[1].ApiGroup);
    }

    [Fact]
    public void Bindings_refuse_unknown_kinds_and_a_service_account_with_an_api_group()
    {
        var binding = new V1RoleBinding
        {
            Metadata = Meta("b"),
            RoleRef = new V1RoleRef { ApiGroup = RbacResources.Group, Kind = "Pod", Name = "x" },
            Subjects =
            [
                new Rbacv1Subject { Kind = "Robot", Name = "r2" },
                new Rbacv1Subject { Kind = "ServiceAccount", Name = "sa", ApiGroup = RbacResources.Group },
            ],
        };

        var causes = Admit(RbacResources.RoleBindings, binding);

        Assert.Equal(["roleRef.kind", "subjects[0].kind", "subjects[1].apiGroup"], causes.Select(c => c.Field));
        Assert.Equal("Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"", causes[0].Message);
        Assert.Equal("Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"", causes[1].Message);
    }

    [Fact]
    public void A_cluster_role_binding_binds_only_cluster_roles_and_service_accounts_with_their_namespace()
    {
        var binding = new V1ClusterRoleBinding
        {
            Metadata = Meta("b", null),
            RoleRef = new V1RoleRef { Kind = "Role", Name = "x" },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = "sa" }],
        };

        var causes = Admit(RbacResources.ClusterRoleBindings, binding);

        Assert.Equal(["roleRef.kind", "subjects[0].namespace"], causes.Select(c => c.Field));
        Assert.Equal("Unsupported value: \"Role\": supported values: \"ClusterRole\"", causes[0].Message);
    }

    [Fact]
    public void The_role_ref_of_a_binding_cannot_change()
    {
        static V1RoleBinding Binding(string role) => new()
        {
            Metadata = new V1ObjectMeta { Name = "b", NamespaceProperty = "default" },
            RoleRef = new V1RoleRef { ApiGroup = RbacResources.Group, Kind = "ClusterRole", Name = role },
        };

        var cause = Assert.Single(Admit(RbacResources.RoleBindings, Binding("b"), Binding("a")));

        Assert.Equal("roleRef", cause.Field);
        Assert.Equal("Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"b\"}: cannot change roleRef",
            cause.Message);
    }

    [Fact]
    public void Role_bindings_print_role_and_subjects_by_kind()
    {
        var now = new DateTime(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var binding = new V1RoleBinding
        {
            Metadata = new V1ObjectMeta { Name = "read-pods", CreationTimestamp = now.AddMinutes(-5) },
            RoleRef = new V1RoleRef { Kind = "Role", Name = "pod-reader" },
            Subjects =
            [
                new Rbacv1Subject { Kind = "User", Name = "jane" }, new Rbacv1Subject { Kind = "User", Name = "joe" },
                new Rbacv1Subject { Kind = "Group", Name = "devs" },
                new Rbacv1Subject { Kind = "ServiceAccount", Name = "default", NamespaceProperty = "dev" },
            ],
        };

        Assert.Equal(["read-pods", "Role/pod-reader", "5m", "jane, joe", "devs", "dev/default"],
            RbacResources.RoleBindings.Printer.Cells(binding, now));
    }

    [Fact]
    public void Roles_print_name_and_creation_time()
    {
        var role = new V1Role { Metadata = new V1ObjectMeta { Name = "r", CreationTimestamp = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc) } };

        Assert.Equal(["Name", "Created At"], RbacResources.Roles.Printer.Columns.Select(c => c.Name));
        Assert.Equal(["r", "2025-03-04T05:06:07Z"], RbacResources.Roles.Printer.Cells(role, DateTime.UtcNow));
    }
}
