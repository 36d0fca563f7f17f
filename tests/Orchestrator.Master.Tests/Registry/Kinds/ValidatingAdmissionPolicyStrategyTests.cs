using k8s.Models;
using Orchestrator.Master.Registry.Kinds.AdmissionRegistration;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public sealed class ValidatingAdmissionPolicyStrategyTests
{
    private static V1ValidatingAdmissionPolicy Policy(string expression, V1ParamKind? paramKind = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "demo-policy.example.com" },
        Spec = new V1ValidatingAdmissionPolicySpec
        {
            ParamKind = paramKind,
            MatchConstraints = new V1MatchResources
            {
                ResourceRules = [new V1NamedRuleWithOperations { ApiGroups = ["apps"], ApiVersions = ["v1"], Operations = ["CREATE", "UPDATE"], Resources = ["deployments"] }],
            },
            Validations = [new V1Validation { Expression = expression }],
        },
    };

    [Fact]
    public void The_docs_basic_policy_is_stored_with_kubes_defaults()
    {
        var policy = Policy("object.spec.replicas <= 5");
        Assert.Empty(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, policy));
        Assert.Equal("Fail", policy.Spec.FailurePolicy);
        Assert.Equal("Equivalent", policy.Spec.MatchConstraints.MatchPolicy);
        Assert.NotNull(policy.Spec.MatchConstraints.NamespaceSelector);
        Assert.Equal("*", policy.Spec.MatchConstraints.ResourceRules[0].Scope);
    }

    [Fact]
    public void An_expression_that_does_not_compile_is_422_on_its_field()
    {
        var syntax = Assert.Single(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, Policy("object.spec.replicas <=")));
        Assert.Equal("spec.validations[0].expression", syntax.Field);
        Assert.StartsWith("Invalid value: \"object.spec.replicas <=\": compilation failed: ERROR: <input>:1:", syntax.Message);
        var undeclared = Assert.Single(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, Policy("params.max > 1")));
        Assert.Equal("Invalid value: \"params.max > 1\": compilation failed: ERROR: <input>:1:1: undeclared reference to 'params' (in container '')", undeclared.Message);
        // with a paramKind, params is declared; macro variables and string contents are not names
        Assert.Empty(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies,
            Policy("params.max > 1 && object.spec.template.spec.containers.all(c, c.name != 'foo bar')", new V1ParamKind { ApiVersion = "v1", Kind = "ConfigMap" })));
        // kube 1.32's libraries are declared (cidr since 1.30); semver comes with 1.33
        Assert.Empty(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, Policy("cidr(object.spec.x).containsCIDR('10.0.0.0/8')")));
        var function = Assert.Single(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, Policy("semver(object.spec.x).major() == 1")));
        Assert.Contains("undeclared reference to 'semver'", function.Message);
    }

    [Fact]
    public void The_authorizer_and_connect_are_refused_rather_than_ignored()
    {
        var authorizer = Assert.Single(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies,
            Policy("authorizer.group('apps').resource('deployments').check('create').allowed()")));
        Assert.Equal("FieldValueForbidden", authorizer.Reason);
        var connect = Policy("true");
        connect.Spec.MatchConstraints.ResourceRules[0].Operations = ["CONNECT"];
        Assert.Equal("spec.matchConstraints.resourceRules[0].operations[0]",
            Assert.Single(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, connect)).Field);
    }

    [Fact]
    public void A_policy_needs_match_constraints_and_validations()
    {
        var empty = new V1ValidatingAdmissionPolicy { Metadata = new V1ObjectMeta { Name = "p" }, Spec = new V1ValidatingAdmissionPolicySpec() };
        var causes = Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicies, empty);
        Assert.Equal(["spec.matchConstraints", "spec.validations", "spec.auditAnnotations"], causes.Select(c => c.Field));
        Assert.Equal("Required value: validations or auditAnnotations must contain at least one item", causes[1].Message);
    }

    [Fact]
    public void A_binding_needs_a_policy_name_and_actions_not_both_deny_and_warn()
    {
        var binding = new V1ValidatingAdmissionPolicyBinding
        {
            Metadata = new V1ObjectMeta { Name = "b" },
            Spec = new V1ValidatingAdmissionPolicyBindingSpec { ValidationActions = ["Deny", "Warn"], ParamRef = new V1ParamRef { Name = "x" } },
        };
        var causes = Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicyBindings, binding);
        Assert.Equal(["spec.policyName", "spec.paramRef.parameterNotFoundAction", "spec.validationActions"], causes.Select(c => c.Field));
        Assert.Equal("Invalid value: []admissionregistration.ValidationAction{\"Deny\", \"Warn\"}: must not contain both Deny and Warn " +
                     "(repeating the same validation failure information in the API response and headers serves no purpose)", causes[2].Message);
        binding.Spec = new V1ValidatingAdmissionPolicyBindingSpec { PolicyName = "p", ValidationActions = [] };
        Assert.Equal("Required value: at least one validation action is required",
            Assert.Single(Strategies.Admit(AdmissionRegistrationResources.ValidatingAdmissionPolicyBindings, binding)).Message);
    }
}
