using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.Api.Discovery;
using Orchestrator.Master.Controllers;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Policies;

/// <summary>The type checking kube-controller-manager writes into a ValidatingAdmissionPolicy's status, against the
/// schemas the API serves (typechecking.go's cases).</summary>
public sealed class PolicyTypeCheckerTests
{
    private static readonly OpenApiPolicySchemas Served = new(BuiltIn.NewCatalog());

    private static V1ValidatingAdmissionPolicy Policy(string group, string[] resources, params V1Validation[] validations) => new()
    {
        Metadata = new V1ObjectMeta { Name = "typed.example.com", Generation = 1 },
        Spec = new V1ValidatingAdmissionPolicySpec
        {
            FailurePolicy = "Fail",
            MatchConstraints = new V1MatchResources
            {
                ResourceRules = [new V1NamedRuleWithOperations { ApiGroups = [group], ApiVersions = ["v1"], Operations = ["CREATE"], Resources = resources }],
            },
            Validations = validations,
        },
    };

    private static V1ValidatingAdmissionPolicy DeploymentPolicy(params V1Validation[] validations) =>
        Policy("apps", ["deployments"], validations);

    private static V1Validation Expression(string expression, string? messageExpression = null) =>
        new() { Expression = expression, MessageExpression = messageExpression };

    [Fact]
    public void A_misspelt_field_of_a_deployment_is_kubes_warning_on_the_expression()
    {
        var warning = Assert.Single(PolicyTypeChecker.Check(DeploymentPolicy(Expression("object.spec.replicass > 1")), Served));
        Assert.Equal("spec.validations[0].expression", warning.FieldRef);
        Assert.Equal("apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replicass'\n" +
                     " | object.spec.replicass > 1\n" +
                     " | ...........^\n", warning.Warning);
    }

    [Fact]
    public void A_message_expression_is_checked_and_named_by_its_own_field()
    {
        var warnings = PolicyTypeChecker.Check(DeploymentPolicy(Expression("true"),
            Expression("object.spec.replicas < 5", "'replicas: ' + object.spec.replicas")), Served);
        var warning = Assert.Single(warnings);
        Assert.Equal("spec.validations[1].messageExpression", warning.FieldRef);
        Assert.StartsWith("apps/v1, Kind=Deployment: ERROR: <input>:1:14: found no matching overload for '_+_' applied to '(string, int)'",
            warning.Warning);
    }

    [Fact]
    public void A_valid_policy_has_no_warnings()
    {
        var policy = DeploymentPolicy(
            Expression("object.spec.replicas <= 5 && object.metadata.name.startsWith('web')",
                "'replicas: ' + string(object.spec.replicas)"),
            Expression("!has(object.metadata.labels) || object.metadata.labels.all(k, k.size() < 64)"),
            Expression("object.spec.template.spec.containers.all(c, c.image.contains(':'))"),
            Expression("oldObject == null || object.metadata.creationTimestamp >= oldObject.metadata.creationTimestamp"),
            Expression("request.operation == 'CREATE' && request.userInfo.groups.exists(g, g == 'devs')"),
            Expression("namespaceObject.metadata.labels['team'] == 'a' && namespaceObject.status.phase == 'Active'"));
        Assert.Empty(PolicyTypeChecker.Check(policy, Served));
    }

    [Fact]
    public void Fields_whose_type_is_not_sure_are_dyn_and_never_warn()
    {
        // int-or-string, a quantity, a free-form object (RawExtension): any use passes
        var policy = DeploymentPolicy(
            Expression("object.spec.strategy.rollingUpdate.maxSurge > 1"),
            Expression("object.spec.template.spec.containers[0].resources.limits['cpu'].anything == 2"));
        Assert.Empty(PolicyTypeChecker.Check(policy, Served));
        var revisions = Policy("apps", ["controllerrevisions"], Expression("object.data.whatever == 1"));
        Assert.Empty(PolicyTypeChecker.Check(revisions, Served));
    }

    [Fact]
    public void A_policy_matching_several_kinds_has_one_warning_naming_each_kind_that_fails()
    {
        var policy = Policy("apps", ["statefulsets", "deployments", "replicasets"], Expression("object.spec.strategy.type == 'Recreate'"));
        var warning = Assert.Single(PolicyTypeChecker.Check(policy, Served));
        Assert.Equal("spec.validations[0].expression", warning.FieldRef);
        const string Caret = " | object.spec.strategy.type == 'Recreate'\n | ...........^\n";
        Assert.Equal($"apps/v1, Kind=ReplicaSet: ERROR: <input>:1:12: undefined field 'strategy'\n{Caret}\n" +
                     $"apps/v1, Kind=StatefulSet: ERROR: <input>:1:12: undefined field 'strategy'\n{Caret}", warning.Warning);
    }

    [Fact]
    public void Core_kinds_are_named_with_an_empty_group()
    {
        var policy = Policy("", ["configmaps"], Expression("object.datas.size() > 0"));
        Assert.StartsWith("/v1, Kind=ConfigMap: ERROR: <input>:1:7: undefined field 'datas'", Assert.Single(PolicyTypeChecker.Check(policy, Served)).Warning);
    }

    [Fact]
    public void Unknown_kinds_wildcards_and_subresources_are_not_checked()
    {
        Assert.Empty(PolicyTypeChecker.Check(Policy("example.com", ["widgets"], Expression("object.spec.nothing == 1")), Served));
        Assert.Empty(PolicyTypeChecker.Check(Policy("apps", ["*"], Expression("object.spec.nothing == 1")), Served));
        Assert.Empty(PolicyTypeChecker.Check(Policy("*", ["deployments"], Expression("object.spec.nothing == 1")), Served));
        Assert.Empty(PolicyTypeChecker.Check(Policy("apps", ["deployments/scale"], Expression("object.spec.nothing == 1")), Served));
    }

    [Fact]
    public void Params_are_typed_by_the_param_kind_and_the_namespace_and_request_by_kubes_types()
    {
        var policy = DeploymentPolicy(Expression("params.datas.size() > 0"), Expression("namespaceObject.metadata.labelz == null"),
            Expression("request.operations == 'CREATE'"));
        policy.Spec.ParamKind = new V1ParamKind { ApiVersion = "v1", Kind = "ConfigMap" };
        var warnings = PolicyTypeChecker.Check(policy, Served);
        Assert.Equal(["spec.validations[0].expression", "spec.validations[1].expression", "spec.validations[2].expression"],
            warnings.Select(w => w.FieldRef));
        Assert.Contains("undefined field 'datas'", warnings[0].Warning);
        Assert.Contains("undefined field 'labelz'", warnings[1].Warning);
        Assert.Contains("undefined field 'operations'", warnings[2].Warning);
    }

    [Fact]
    public void Params_of_a_kind_without_a_schema_and_the_variables_are_dyn()
    {
        var policy = DeploymentPolicy(Expression("params.anything == variables.limit.whatever"));
        policy.Spec.ParamKind = new V1ParamKind { ApiVersion = "example.com/v1", Kind = "Limits" };
        policy.Spec.Variables = [new V1Variable { Name = "limit", Expression = "object.spec.replicas" }];
        Assert.Empty(PolicyTypeChecker.Check(policy, Served));
    }

    private sealed class ManyKinds(int count) : IPolicySchemaSource
    {
        public IReadOnlyList<PolicyKind> KindsFor(string group, string version, string resource) =>
            Enumerable.Range(0, count).Select(i => new PolicyKind(group, version, $"{resource}{i:D2}")).ToList();

        public PolicySchema? Resolve(PolicyKind kind) => new(new JsonObject { ["type"] = "object" }, _ => null);
    }

    [Fact]
    public void At_most_ten_kinds_are_checked_then_kube_stops_looking()
    {
        var policy = Policy("example.com", ["things"], Expression("object.x == 1"));
        policy.Spec.MatchConstraints.ResourceRules.Add(new V1NamedRuleWithOperations { ApiGroups = ["a.example.com"], ApiVersions = ["v1"], Resources = ["more"] });
        var kinds = PolicyTypeChecker.KindsToCheck(policy.Spec, new ManyKinds(12));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"things{i:D2}"), kinds.Select(k => k.Kind));
        var warning = Assert.Single(PolicyTypeChecker.Check(policy, new ManyKinds(12)));
        Assert.Equal(10, warning.Warning.Split("undefined field 'x'").Length - 1);
    }

    [Fact]
    public void The_status_is_written_once_per_generation()
    {
        var policy = DeploymentPolicy(Expression("object.spec.replicass > 1"));
        policy.Metadata.Generation = 2;
        var status = ValidatingAdmissionPolicyStatusController.StatusFor(policy, Served)!;
        Assert.Equal(2, status.ObservedGeneration);
        Assert.Equal("spec.validations[0].expression", Assert.Single(status.TypeChecking.ExpressionWarnings).FieldRef);
        policy.Status = status;
        Assert.Null(ValidatingAdmissionPolicyStatusController.StatusFor(policy, Served));

        var valid = DeploymentPolicy(Expression("object.spec.replicas > 1"));
        var clean = ValidatingAdmissionPolicyStatusController.StatusFor(valid, Served)!;
        Assert.Equal(1, clean.ObservedGeneration);
        Assert.Null(clean.TypeChecking.ExpressionWarnings);
    }
}
