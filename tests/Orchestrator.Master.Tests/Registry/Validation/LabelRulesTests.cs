using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Validation;

public sealed class LabelRulesTests
{
    [Theory]
    [InlineData("app")]
    [InlineData("app.kubernetes.io/name")]
    [InlineData("A_b.c-D")]
    public void Valid_keys_pass(string key) => Assert.Empty(LabelRules.CheckKey(key));

    [Theory]
    [InlineData("bad key", "name part must consist of alphanumeric characters")]
    [InlineData("/x", "prefix part must be non-empty")]
    [InlineData("Example.com/x", "prefix part a lowercase RFC 1123 subdomain")]
    [InlineData("a/b/c", "a qualified name must consist")]
    [InlineData("-x", "name part must consist")]
    public void Invalid_keys_get_kubernetes_messages(string key, string message) =>
        Assert.StartsWith(message, Assert.Single(LabelRules.CheckKey(key)));

    [Fact]
    public void A_trailing_newline_and_a_length_in_bytes_are_refused_as_Go_refuses_them()
    {
        // .NET's "$" matched before a final newline; Go's regexp and len() see the whole text in bytes.
        Assert.Single(LabelRules.CheckKey("app\n"));
        Assert.Single(LabelRules.CheckValue("web\n"));
        Assert.Equal(2, LabelRules.CheckValue(new string('é', 32)).Count());
    }

    [Fact]
    public void An_empty_name_part_is_empty_and_does_not_match_the_pattern_as_in_apimachinery() =>
        Assert.Collection(LabelRules.CheckKey("example.com/"),
            m => Assert.Equal("name part must be non-empty", m),
            m => Assert.StartsWith("name part must consist of alphanumeric characters", m));

    [Theory]
    [InlineData("example.com/feature-1", 0)]
    [InlineData("Ready-Gate_1.x", 0)]
    [InlineData("bad type!", 1)]
    [InlineData("", 2)]
    public void Readiness_gate_condition_types_are_qualified_names(string type, int errors)
    {
        var causes = new List<StoreErrorCause>();
        PodSpecs.Validate(new V1PodSpec
        {
            Containers = [new V1Container { Name = "c", Image = "i" }],
            ReadinessGates = [new V1PodReadinessGate { ConditionType = type }],
        }, "spec", causes);
        Assert.Equal(errors, causes.Count);
        Assert.All(causes, c => Assert.Equal("spec.readinessGates[0].conditionType", c.Field));
    }

    [Fact]
    public void A_value_of_64_characters_is_too_long() =>
        Assert.Equal("must be no more than 63 characters", LabelRules.CheckValue(new string('v', 64)).First());

    [Fact]
    public void An_empty_value_is_valid() => Assert.Empty(LabelRules.CheckValue(""));

    [Fact]
    public void Selector_operators_and_values_are_checked()
    {
        var causes = new List<StoreErrorCause>();
        LabelRules.ValidateSelector(new V1LabelSelector
        {
            MatchExpressions =
            [
                new V1LabelSelectorRequirement { Key = "a", OperatorProperty = "In" },
                new V1LabelSelectorRequirement { Key = "b", OperatorProperty = "Exists", Values = ["x"] },
                new V1LabelSelectorRequirement { Key = "c", OperatorProperty = "Near", Values = ["x"] },
            ],
        }, "spec.selector", causes);
        Assert.Equal(["spec.selector.matchExpressions[0].values", "spec.selector.matchExpressions[1].values",
            "spec.selector.matchExpressions[2].operator"], causes.Select(c => c.Field));
        Assert.Equal("Unsupported value: \"Near\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"", causes[2].Message);
    }
}
