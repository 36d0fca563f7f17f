using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.CustomResources;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.CustomResources;

/// <summary>x-kubernetes-validations rules type-checked against their schema when the definition is made, as kube's
/// cel.Compile does: kube's messages, positions and field paths for what it refuses, and the valid rules it accepts.</summary>
public sealed class CelTypeCheckTests
{
    private const string Properties = """
        {"replicas":{"type":"integer"},"minReplicas":{"type":"integer"},"maxReplicas":{"type":"integer"},
         "name":{"type":"string"},"x":{"type":"string"},"quantity":{"type":"string"},"ip":{"type":"string"},
         "url":{"type":"string"},"ratio":{"type":"number"},"enabled":{"type":"boolean"},
         "labels":{"type":"object","additionalProperties":{"type":"string"}},
         "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
         "items":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                  "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer"}}}},
         "created":{"type":"string","format":"date-time"},"timeout":{"type":"string","format":"duration"},
         "data":{"type":"string","format":"byte"},"port":{"x-kubernetes-int-or-string":true},
         "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
         "embedded":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true},
         "foo-bar":{"type":"string"},"namespace":{"type":"string"}}
        """;

    private static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    /// <summary>The causes for a spec node with <paramref name="rules"/> (an array of rule objects).</summary>
    private static List<string> Check(string rules) =>
        StructuralSchemaCheck.Check(Json("""
            {"type":"object","properties":{"spec":{"type":"object","x-kubernetes-validations":RULES,"properties":PROPERTIES}}}
            """.Replace("RULES", rules).Replace("PROPERTIES", Properties)), "s").Select(c => $"{c.Field}: {c.Message}").ToList();

    private static List<string> CheckRule(string rule) =>
        Check(new JsonArray(new JsonObject { ["rule"] = rule }).ToJsonString());

    private static string Value(string rule, string messageExpression = "") =>
        $"apiextensions.ValidationRule{{Rule:\"{rule}\", Message:\"\", MessageExpression:\"{messageExpression}\", " +
        "Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}";

    private const string RulePath = "s.properties[spec].x-kubernetes-validations[0].rule";

    [Fact]
    public void A_field_the_schema_does_not_declare_is_an_undefined_field()
    {
        Assert.Equal([$"{RulePath}: Invalid value: {Value("self.foo > 1")}: compilation failed: " +
                      "ERROR: <input>:1:5: undefined field 'foo'\n | self.foo > 1\n | ....^"], CheckRule("self.foo > 1"));
    }

    [Fact]
    public void Operands_no_overload_takes_are_refused_with_cel_gos_message()
    {
        Assert.Equal([$"{RulePath}: Invalid value: {Value("self.replicas > 'a'")}: compilation failed: " +
                      "ERROR: <input>:1:15: found no matching overload for '_>_' applied to '(int, string)'\n" +
                      " | self.replicas > 'a'\n | ..............^"], CheckRule("self.replicas > 'a'"));
        Assert.EndsWith("ERROR: <input>:1:11: found no matching overload for '_+_' applied to '(string, int)'\n" +
                        " | self.name + 1 == 'a'\n | ..........^", Assert.Single(CheckRule("self.name + 1 == 'a'")));
        // the example of kube's documentation
        Assert.Contains("ERROR: <input>:1:15: found no matching overload for '_==_' applied to '(int, bool)'",
            Assert.Single(CheckRule("self.replicas == true")));
        Assert.Contains("found no matching overload for 'startsWith' applied to 'string.(int)'",
            Assert.Single(CheckRule("self.name.startsWith(1)")));
        Assert.Contains("found no matching overload for 'size' applied to 'int.()'",
            Assert.Single(CheckRule("self.items.all(i, i.port.size() < 10)")));
        Assert.Contains("found no matching overload for '@in' applied to '(int, list(string))'",
            Assert.Single(CheckRule("1 in self.tags")));
        // a date-time string is a timestamp in CEL
        Assert.Contains("found no matching overload for 'startsWith' applied to 'timestamp.(string)'",
            Assert.Single(CheckRule("self.created.startsWith('2')")));
    }

    [Fact]
    public void Logical_operands_and_quantifier_bodies_must_be_bool()
    {
        Assert.EndsWith("compilation failed: ERROR: <input>:1:5: expected type 'bool' but found 'int'\n | self.replicas && true\n | ....^",
            Assert.Single(CheckRule("self.replicas && true")));
        Assert.Contains("ERROR: <input>:1:24: expected type 'bool' but found 'int'", Assert.Single(CheckRule("self.tags.all(t, t.size())")));
    }

    [Fact]
    public void A_rule_must_evaluate_to_a_bool_and_a_message_expression_to_a_string()
    {
        Assert.Equal([$"{RulePath}: Invalid value: {Value("self.replicas")}: cel expression must evaluate to a bool"],
            CheckRule("self.replicas"));
        Assert.Equal([$"s.properties[spec].x-kubernetes-validations[0].messageExpression: Invalid value: " +
                      $"{Value("self.replicas > 0", "self.replicas")}: messageExpression must evaluate to a string"],
            Check("""[{"rule":"self.replicas > 0","messageExpression":"self.replicas"}]"""));
        Assert.Contains("messageExpression compilation failed: ERROR: <input>:1:5: undefined field 'nope'",
            Assert.Single(Check("""[{"rule":"self.replicas > 0","messageExpression":"self.nope"}]""")));
    }

    [Fact]
    public void Preserve_unknown_fields_declares_no_more_fields_than_its_properties()
    {
        // kube's SchemaDeclType ignores x-kubernetes-preserve-unknown-fields: only declared properties can be selected
        Assert.Contains("ERROR: <input>:1:11: undefined field 'anything'", Assert.Single(CheckRule("self.extra.anything == 1")));
        Assert.Contains("ERROR: <input>:1:14: undefined field 'spec'", Assert.Single(CheckRule("self.embedded.spec.x == 1")));
    }

    [Fact]
    public void Undeclared_names_are_refused()
    {
        Assert.Contains("ERROR: <input>:1:1: undeclared reference to 'replicas' (in container '')\n | replicas > 1\n | ^",
            Assert.Single(CheckRule("replicas > 1")));
    }

    [Fact]
    public void Every_error_of_a_rule_is_reported_in_order_of_position()
    {
        Assert.EndsWith("compilation failed: ERROR: <input>:1:5: undefined field 'a'\n | self.a == 1 && self.b == 2\n | ....^\n" +
                        "ERROR: <input>:1:20: undefined field 'b'\n | self.a == 1 && self.b == 2\n | ...................^",
            Assert.Single(CheckRule("self.a == 1 && self.b == 2")));
    }

    [Fact]
    public void The_resource_root_declares_only_apiVersion_kind_and_metadata_name_and_generateName()
    {
        List<string> Root(string rule) => StructuralSchemaCheck.Check(Json("""
            {"type":"object","x-kubernetes-validations":[{"rule":"RULE"}],
             "properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}
            """.Replace("RULE", rule)), "s").Select(c => c.Message).ToList();
        Assert.Empty(Root("self.metadata.name.startsWith('a') && self.kind == 'Foo' && self.apiVersion != '' && self.spec.replicas >= 0"));
        Assert.Empty(Root("self.metadata.generateName == ''"));
        Assert.Contains("undefined field 'labels'", Assert.Single(Root("size(self.metadata.labels) > 0")));
        // an object type shows kube's generated name
        Assert.Matches(@"applied to '\(selfType\d+\.spec, int\)'", Assert.Single(Root("self.spec + 1 == 2")));
    }

    [Fact]
    public void OldSelf_is_refused_under_a_list_that_is_no_map_list_and_optionalOldSelf_needs_oldSelf()
    {
        var causes = StructuralSchemaCheck.Check(Json("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string",
                      "x-kubernetes-validations":[{"rule":"self == oldSelf"}]}},
              "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
                       "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}},
                                "x-kubernetes-validations":[{"rule":"self.name == oldSelf.name"}]}},
              "name":{"type":"string","x-kubernetes-validations":[{"rule":"self != ''","optionalOldSelf":true}]}}}}}
            """), "s").Select(c => $"{c.Field}: {c.Message}").ToList();
        Assert.Equal([
            "s.properties[spec].properties[name].x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: " +
            "may not be set if oldSelf is not used in rule",
            "s.properties[spec].properties[tags].items.x-kubernetes-validations[0].rule: Invalid value: \"self == oldSelf\": " +
            "oldSelf cannot be used on the uncorrelatable portion of the schema within s.properties[spec].properties[tags].items",
        ], causes);
    }

    [Theory]
    [InlineData("self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas")]
    [InlineData("self.x.startsWith('a')")]
    [InlineData("self.labels.all(k, k.size() < 10)")]
    [InlineData("self.labels.all(k, self.labels[k].size() < 64)")]
    [InlineData("self.labels.exists(k, k == 'app') && 'app' in self.labels && has(self.labels.app)")]
    [InlineData("has(self.x) && has(self.items)")]
    [InlineData("self.tags.all(t, t.matches('^[a-z]+$'))")]
    [InlineData("self.tags.exists(t, t == 'a') || self.tags.exists_one(t, t == 'b')")]
    [InlineData("self.tags.map(t, t.size()).all(n, n > 0)")]
    [InlineData("self.tags.map(t, t.size() > 1, t.size()).all(n, n > 1)")]
    [InlineData("self.tags.filter(t, t.startsWith('x')).size() == 0")]
    [InlineData("self.items.all(i, i.name != '' && i.port > 0) && self.items.exists(i, i.name == self.name)")]
    [InlineData("size(self.tags) <= 5 && size(self.labels) < 3 && size(self.name) > 0")]
    [InlineData("isQuantity(self.quantity) && quantity(self.quantity).isLessThan(quantity('1Gi'))")]
    [InlineData("quantity(self.quantity).add(quantity('1')).compareTo(quantity('2')) < 0")]
    [InlineData("isIP(self.ip) && ip(self.ip).family() == 4 && ip.isCanonical(self.ip)")]
    [InlineData("isCIDR(self.ip) && cidr(self.ip).prefixLength() >= 16 && cidr(self.ip).containsIP(ip('10.0.0.1'))")]
    [InlineData("isURL(self.url) && url(self.url).getScheme() == 'https' && url(self.url).getQuery().size() == 0")]
    [InlineData("self.x.find('[0-9]+') != '' && self.x.findAll('[a-z]').size() > 1")]
    [InlineData("self.tags.isSorted() && self.tags.min() == 'a' && sets.contains(self.tags, ['a'])")]
    [InlineData("!format.dns1123Label().validate(self.x).hasValue()")]
    [InlineData("self.created < timestamp('2030-01-01T00:00:00Z') && self.created.getFullYear() > 2000")]
    [InlineData("self.timeout > duration('1h') && duration('1h') > duration('1m') && self.timeout.getMinutes() > 1")]
    [InlineData("self.created + self.timeout > timestamp('2030-01-01T00:00:00Z')")]
    [InlineData("self.data.size() > 0 && self.data != b'x'")]
    [InlineData("type(self.port) == string ? self.port.matches('^[0-9]+%$') : self.port >= 0")]
    [InlineData("type(self.port) == int && type(self.name) == string")]
    [InlineData("self.ratio > 0.5 && self.ratio < 1 && self.replicas < 2.5")]
    [InlineData("self.enabled || !self.enabled")]
    [InlineData("self.embedded.metadata.name != '' && self.embedded.kind == 'Pod' ")]
    [InlineData("self.foo__dash__bar == 'a' && self.__namespace__ == 'default'")]
    [InlineData("self.replicas == oldSelf.replicas")]
    [InlineData("!has(oldSelf.x) || has(self.x)")]
    [InlineData("self.x.lowerAscii() == self.x.upperAscii().lowerAscii() && self.x.trim() != ''")]
    [InlineData("self.x.split(',').size() > 0 && self.tags.join(',').size() < 100 && self.tags.join() != ''")]
    [InlineData("self.x.replace('a', 'b') != '' && self.x.substring(1) != '' && self.x.substring(0, 1) == self.x.charAt(0)")]
    [InlineData("self.x.indexOf('a') >= 0 && self.x.lastIndexOf('a', 2) < 3 && self.tags.indexOf('a') == 0")]
    [InlineData("int(self.x) > 0 && string(self.replicas) == '3' && double(self.replicas) > 1.0 && uint(self.replicas) > 1u")]
    [InlineData("self.replicas % 2 == 0 && -self.replicas < 0 && self.replicas * 2 / 1 - 1 + 1 > 0")]
    [InlineData("[1, 2, 3].all(i, i > 0) && {'a': 1}.a == 1 && [].size() == 0 && {}.size() == 0")]
    [InlineData("self.replicas in [1, 2, 3] && self.name in self.tags")]
    [InlineData("self.tags + ['x'] != [] && self.labels != {}")]
    [InlineData("self.replicas > 1 ? self.name != '' : true")]
    [InlineData("dyn(self.replicas) == 'a' || dyn(self.name) > 1")]
    [InlineData("matches(self.x, '^a') && self.x.contains('a') && self.x.endsWith('z')")]
    [InlineData("self.items.map(i, i.name).all(n, n in self.tags)")]
    [InlineData("self.labels.map(k, self.labels[k]).exists(v, v == 'a')")]
    [InlineData("self.items[0].port > 0 && self.tags[0] == 'a' && self.labels['a'] == 'b'")]
    [InlineData("(self.replicas > 0) == true && ((self.x)).size() > 0")]
    public void Valid_rules_pass(string rule) => Assert.Empty(CheckRule(rule));

    [Fact]
    public void A_message_expression_that_is_a_string_passes() =>
        Assert.Empty(Check("""
            [{"rule":"self.replicas > 0","messageExpression":"'replicas ' + string(self.replicas) + ' of ' + self.name"}]
            """));
}
