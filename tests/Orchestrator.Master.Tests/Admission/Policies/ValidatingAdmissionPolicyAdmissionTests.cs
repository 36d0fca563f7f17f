using k8s;
using k8s.Models;
using Orchestrator.Master.Admission.Policies;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;
using Orchestrator.Master.Tests.Registry.Kinds;
using Xunit;

namespace Orchestrator.Master.Tests.Admission.Policies;

public sealed class ValidatingAdmissionPolicyAdmissionTests
{
    private static readonly ValidatingAdmissionPolicyAdmission Plugin = new(BuiltIn.NewCatalog());

    private static V1ValidatingAdmissionPolicy Policy(string name = "demo-policy.example.com", string failurePolicy = "Fail",
        V1ParamKind? paramKind = null, params V1Validation[] validations) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ValidatingAdmissionPolicySpec
        {
            FailurePolicy = failurePolicy, ParamKind = paramKind,
            MatchConstraints = new V1MatchResources
            {
                MatchPolicy = "Equivalent", NamespaceSelector = new V1LabelSelector(), ObjectSelector = new V1LabelSelector(),
                ResourceRules = [new V1NamedRuleWithOperations { ApiGroups = ["apps"], ApiVersions = ["v1"], Operations = ["CREATE", "UPDATE"], Resources = ["deployments"], Scope = "*" }],
            },
            Validations = validations.Length > 0 ? validations : [new V1Validation { Expression = "object.spec.replicas <= 5" }],
        },
    };

    private static V1ValidatingAdmissionPolicyBinding Binding(string name = "demo-binding-test.example.com", string policy = "demo-policy.example.com",
        string[]? actions = null, V1ParamRef? paramRef = null, V1MatchResources? match = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ValidatingAdmissionPolicyBindingSpec { PolicyName = policy, ValidationActions = actions ?? ["Deny"], ParamRef = paramRef, MatchResources = match },
    };

    private static V1Deployment Deployment(int replicas, string ns = "default") => new()
    {
        ApiVersion = "apps/v1", Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = "nginx", NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = "nginx" } },
        Spec = new V1DeploymentSpec { Replicas = replicas, Selector = new V1LabelSelector(), Template = new V1PodTemplateSpec() },
    };

    private static V1Namespace Namespace(string name, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
    };

    private static AdmissionVerdict? Create(IKubernetesObject<V1ObjectMeta> obj, params (string, IKubernetesObject<V1ObjectMeta>)[] objects) =>
        Plugin.Validate(new AdmissionAttributes(AppsResources.Deployments, AdmissionAttributes.Create, null, obj, null)
            { UserInfo = new AdmissionUser("alice", "", ["devs", "system:authenticated"], new Dictionary<string, IReadOnlyList<string>>()) },
            new ObjectsContext([("namespaces", Namespace("default")), .. objects]));

    [Fact]
    public void The_docs_basic_example_denies_six_replicas_with_kubes_message()
    {
        var verdict = Create(Deployment(6), ("validatingadmissionpolicies", Policy()), ("validatingadmissionpolicybindings", Binding()));
        var refusal = verdict!.Refusal!;
        Assert.Equal(422, refusal.Code);
        Assert.Equal("Invalid", refusal.Reason);
        Assert.Equal("deployments.apps \"nginx\" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding " +
                     "'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5", refusal.Message);
        Assert.Null(Create(Deployment(5), ("validatingadmissionpolicies", Policy()), ("validatingadmissionpolicybindings", Binding())));
    }

    [Fact]
    public void A_policy_without_a_binding_or_not_matching_says_nothing()
    {
        Assert.Null(Create(Deployment(6), ("validatingadmissionpolicies", Policy())));
        var other = Binding(match: new V1MatchResources { NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["environment"] = "test" } } });
        Assert.Null(Create(Deployment(6), ("validatingadmissionpolicies", Policy()), ("validatingadmissionpolicybindings", other)));
        Assert.NotNull(Create(Deployment(6, "t"), ("namespaces", Namespace("t", ("environment", "test"))),
            ("validatingadmissionpolicies", Policy()), ("validatingadmissionpolicybindings", other))!.Refusal);
    }

    [Fact]
    public void Reason_message_and_message_expression_shape_the_refusal()
    {
        var forbidden = Policy(validations: new V1Validation { Expression = "object.spec.replicas <= 5", Reason = "Forbidden", Message = "too many" });
        var refusal = Create(Deployment(6), ("validatingadmissionpolicies", forbidden), ("validatingadmissionpolicybindings", Binding()))!.Refusal!;
        Assert.Equal((403, "Forbidden"), (refusal.Code, refusal.Reason));
        Assert.EndsWith("denied request: too many", refusal.Message);
        var computed = Policy(validations: new V1Validation
        {
            Expression = "object.spec.replicas <= 5", Message = "fallback",
            MessageExpression = "'replicas ' + string(object.spec.replicas) + ' by ' + request.userInfo.username",
        });
        Assert.EndsWith("denied request: replicas 6 by alice",
            Create(Deployment(6), ("validatingadmissionpolicies", computed), ("validatingadmissionpolicybindings", Binding()))!.Refusal!.Message);
    }

    [Fact]
    public void Warn_and_audit_actions_admit_with_a_warning_and_an_annotation()
    {
        var verdict = Create(Deployment(6), ("validatingadmissionpolicies", Policy()),
            ("validatingadmissionpolicybindings", Binding(actions: ["Warn", "Audit"])))!;
        Assert.Null(verdict.Refusal);
        Assert.Equal("Validation failed for ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com': " +
                     "failed expression: object.spec.replicas <= 5", Assert.Single(verdict.Warnings));
        Assert.Equal("[{\"message\":\"failed expression: object.spec.replicas \\u003c= 5\",\"policy\":\"demo-policy.example.com\"," +
                     "\"binding\":\"demo-binding-test.example.com\",\"expressionIndex\":0,\"validationActions\":[\"Warn\",\"Audit\"]}]",
            verdict.AuditAnnotations["validation.policy.admission.k8s.io/validation_failure"]);
    }

    [Fact]
    public void Params_come_from_the_binding_and_missing_ones_follow_parameter_not_found_action()
    {
        var policy = Policy(paramKind: new V1ParamKind { ApiVersion = "v1", Kind = "ConfigMap" },
            validations: new V1Validation { Expression = "object.spec.replicas <= int(params.data.maxReplicas)" });
        var limit = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "limit", NamespaceProperty = "default" }, Data = new Dictionary<string, string> { ["maxReplicas"] = "3" } };
        var binding = Binding(paramRef: new V1ParamRef { Name = "limit", ParameterNotFoundAction = "Deny" });
        Assert.NotNull(Create(Deployment(4), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", binding), ("configmaps", limit))!.Refusal);
        Assert.Null(Create(Deployment(3), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", binding), ("configmaps", limit)));
        Assert.Equal("deployments.apps \"nginx\" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' " +
                     "denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
            Create(Deployment(1), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", binding))!.Refusal!.Message);
        var allow = Binding(paramRef: new V1ParamRef { Name = "limit", ParameterNotFoundAction = "Allow" });
        Assert.Null(Create(Deployment(9), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", allow)));
    }

    [Fact]
    public void An_evaluation_error_denies_under_fail_and_is_ignored_under_ignore()
    {
        var broken = new V1Validation { Expression = "object.spec.nothing > 1" };
        var refusal = Create(Deployment(1), ("validatingadmissionpolicies", Policy(validations: broken)), ("validatingadmissionpolicybindings", Binding()))!.Refusal!;
        Assert.EndsWith("denied request: expression 'object.spec.nothing > 1' resulted in error: no such key: nothing", refusal.Message);
        Assert.Null(Create(Deployment(1), ("validatingadmissionpolicies", Policy(failurePolicy: "Ignore", validations: broken)),
            ("validatingadmissionpolicybindings", Binding())));
    }

    [Fact]
    public void Match_conditions_and_variables_are_evaluated_first()
    {
        var policy = Policy(validations: new V1Validation { Expression = "variables.replicas <= 2" });
        policy.Spec.Variables = [new V1Variable { Name = "replicas", Expression = "object.spec.replicas" }];
        policy.Spec.MatchConditions = [new V1MatchCondition { Name = "not-nginx-system", Expression = "object.metadata.namespace != 'kube-system'" }];
        Assert.NotNull(Create(Deployment(3), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", Binding()))!.Refusal);
        Assert.Null(Create(Deployment(3, "kube-system"), ("namespaces", Namespace("kube-system")),
            ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", Binding())));
    }

    [Fact]
    public void Deletes_are_judged_with_the_old_object_only()
    {
        var policy = Policy(validations: new V1Validation { Expression = "object == null && oldObject.metadata.name != 'nginx'", Message = "keep nginx" });
        policy.Spec.MatchConstraints.ResourceRules[0].Operations = ["DELETE"];
        var stored = Deployment(1);
        var verdict = Plugin.Validate(new AdmissionAttributes(AppsResources.Deployments, AdmissionAttributes.Delete, null, stored, stored),
            new ObjectsContext(("namespaces", Namespace("default")), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", Binding())));
        Assert.EndsWith("denied request: keep nginx", verdict!.Refusal!.Message);
        Assert.True(Plugin.ValidatesDeletes);
        Assert.Null(Create(Deployment(9), ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", Binding())));
    }

    [Fact]
    public void An_expression_past_the_cost_limit_is_an_error_under_the_failure_policy()
    {
        var expensive = Policy(validations: new V1Validation
        {
            Expression = "[" + string.Join(",", Enumerable.Range(0, 1000)) + "].all(x, [" + string.Join(",", Enumerable.Range(0, 1000)) + "].all(y, x != y || x == y))",
        });
        var refusal = Create(Deployment(1), ("validatingadmissionpolicies", expensive), ("validatingadmissionpolicybindings", Binding()))!.Refusal!;
        Assert.EndsWith("resulted in error: operation cancelled: actual cost limit exceeded", refusal.Message);
        var ignored = Policy(failurePolicy: "Ignore", validations: expensive.Spec.Validations[0]);
        Assert.Null(Create(Deployment(1), ("validatingadmissionpolicies", ignored), ("validatingadmissionpolicybindings", Binding())));
    }

    [Fact]
    public void The_docs_service_cidr_policy_uses_the_cidr_library()
    {
        var policy = Policy(validations: new V1Validation
        {
            Expression = "['10.96.0.0/16','2001:db8::/64'].exists(allowed, cidr(allowed).containsCIDR(object.metadata.annotations['cidr']))",
        });
        AdmissionVerdict? With(string cidr)
        {
            var deployment = Deployment(1);
            deployment.Metadata.Annotations = new Dictionary<string, string> { ["cidr"] = cidr };
            return Create(deployment, ("validatingadmissionpolicies", policy), ("validatingadmissionpolicybindings", Binding()));
        }
        Assert.Null(With("10.96.10.0/24"));
        Assert.Null(With("2001:db8::/96"));
        Assert.EndsWith("failed expression: " + policy.Spec.Validations[0].Expression, With("10.97.0.0/24")!.Refusal!.Message);
    }
}
