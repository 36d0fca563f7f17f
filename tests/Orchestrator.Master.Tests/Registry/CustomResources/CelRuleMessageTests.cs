using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.CustomResources;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.CustomResources;

/// <summary>x-kubernetes-validations' messageExpression and cost limit, as kube's apiextensions validator.</summary>
public sealed class CelRuleMessageTests
{
    private static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    private static List<string> Validate(string rules, string spec)
    {
        var schema = SchemaNode.Parse(Json("""
            {"type":"object","properties":{"spec":{"type":"object","x-kubernetes-validations":RULES,
              "properties":{"replicas":{"type":"integer"},"items":{"type":"array","items":{"type":"integer"}}}}}}
            """.Replace("RULES", rules)));
        return SchemaValidation.Validate(Json($$"""{"spec":{{spec}}}"""), schema, "", null, celRules: true)
            .Select(c => $"{c.Field}: {c.Message}").ToList();
    }

    [Fact]
    public void A_failed_rule_says_its_message_expressions_string()
    {
        var causes = Validate("""[{"rule":"self.replicas <= 10","message":"at most 10","messageExpression":"'replicas ' + string(self.replicas) + ' > 10'"}]""",
            """{"replicas":12}""");
        Assert.Equal(["spec: Invalid value: \"object\": replicas 12 > 10"], causes);
    }

    [Theory]
    [InlineData("self.nope")] // an evaluation error
    [InlineData("self.replicas")] // no string
    [InlineData("'  '")] // empty once trimmed
    [InlineData("'two\\nlines'")]
    public void A_message_expression_that_gives_no_usable_string_falls_back_to_the_message(string messageExpression)
    {
        var rules = new JsonArray(new JsonObject { ["rule"] = "self.replicas <= 10", ["message"] = "at most 10", ["messageExpression"] = messageExpression });
        Assert.Equal(["spec: Invalid value: \"object\": at most 10"], Validate(rules.ToJsonString(), """{"replicas":12}"""));
    }

    [Fact]
    public void Without_a_message_the_fallback_is_failed_rule() =>
        Assert.Equal(["spec: Invalid value: \"object\": failed rule: self.replicas <= 10"],
            Validate("""[{"rule":"self.replicas <= 10","messageExpression":"self.replicas"}]""", """{"replicas":12}"""));

    [Fact]
    public void A_rule_that_cannot_be_evaluated_says_cel_gos_error_evaluating_the_rule()
    {
        // kube's "%v evaluating rule: %v" (the message, when the rule has one, in place of the rule), at the rule's node
        // whatever its fieldPath and reason, and the operand mismatch kube words apart
        var causes = Validate("""
            [{"rule":"self.items.all(i, i > 0)"},{"rule":"self.replicas / 0 == 1","message":"halves","fieldPath":".replicas",
              "reason":"FieldValueForbidden"},{"rule":"self.replicas + 9223372036854775807 > 0"}]
            """, """{"replicas":1}""");
        Assert.Equal([
            // cel-go says "no such key: items"; the package does not keep the name of a missing field a macro is given
            "spec: Invalid value: \"object\": no such key evaluating rule: self.items.all(i, i > 0)",
            "spec: Invalid value: \"object\": division by zero evaluating rule: halves",
            "spec: Invalid value: \"object\": integer overflow evaluating rule: self.replicas + 9223372036854775807 > 0",
        ], causes);
    }

    [Fact]
    public void A_rule_past_the_cost_limit_stops_validation_with_kubes_message()
    {
        var items = string.Join(",", Enumerable.Range(0, 1000));
        var causes = Validate("""
            [{"rule":"self.items.all(x, self.items.all(y, x + y >= 0))"},{"rule":"self.replicas <= 10"}]
            """, $$"""{"replicas":12,"items":[{{items}}]}""");
        Assert.Equal(["spec: Invalid value: \"object\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run " +
                      "due to call cost exceeds limit for rule: self.items.all(x, self.items.all(y, x + y >= 0))"], causes);
    }

    [Fact]
    public void Message_expressions_are_checked_when_the_definition_is_made()
    {
        List<string> Check(string rules) => StructuralSchemaCheck.Check(Json("""
            {"type":"object","properties":{"spec":{"type":"object","x-kubernetes-validations":RULES,
             "properties":{"a":{"type":"integer"}}}}}
            """.Replace("RULES", rules)), "s").Select(c => $"{c.Field}: {c.Message}").ToList();
        var causes = Check("""
            [{"rule":"self.a > 1","messageExpression":"'a is ' +"},{"rule":"self.a > 1","messageExpression":"'a is ' + string(self.a)"}]
            """);
        // kube shows the whole rule as the invalid value
        Assert.StartsWith("s.properties[spec].x-kubernetes-validations[0].messageExpression: Invalid value: " +
            "apiextensions.ValidationRule{Rule:\"self.a > 1\", Message:\"\", MessageExpression:\"'a is ' +\", " +
            "Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: messageExpression compilation failed: ",
            Assert.Single(causes));
        // a node with a schema error has its rules not compiled (kube's validation skips them)
        Assert.Equal(["s.properties[spec].x-kubernetes-validations[1].messageExpression: Required value: messageExpression must be non-empty if specified"],
            Check("""[{"rule":"self.a > 1","messageExpression":"'a is ' +"},{"rule":"self.a > 1","messageExpression":"  "}]"""));
    }

    [Fact]
    public void Rules_may_use_kubernetes_libraries()
    {
        var causes = StructuralSchemaCheck.Check(Json("""
            {"type":"object","x-kubernetes-validations":[{"rule":"isCIDR(self.c) && cidr(self.c).prefixLength() >= 16"},
              {"rule":"quantity(self.q).isLessThan(quantity('1Gi'))"},{"rule":"self.l.isSorted() && self.c.find('[0-9]+') != ''"},
              {"rule":"!format.dns1123Label().validate(self.c).hasValue()"}],
             "properties":{"c":{"type":"string"},"q":{"type":"string"},"l":{"type":"array","items":{"type":"integer"}}}}
            """), "s");
        Assert.Empty(causes);
    }
}
