using System.Text.Json.Nodes;
using k8s.Models;
using Orchestrator.Master.Registry.CustomResources;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.CustomResources;

/// <summary>The schema machinery of custom resources: structural check, pruning, defaulting, validation, CEL.</summary>
public sealed class SchemaTests
{
    private static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    private static readonly JsonObject CronTabSchema = Json("""
        {"type":"object","properties":{
          "spec":{"type":"object",
            "x-kubernetes-validations":[{"rule":"self.replicas <= self.maxReplicas","message":"replicas must not exceed maxReplicas"},
                                        {"rule":"self.image == oldSelf.image","message":"image is immutable"}],
            "required":["cronSpec"],
            "properties":{
              "cronSpec":{"type":"string","pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
              "image":{"type":"string","maxLength":20},
              "replicas":{"type":"integer","minimum":0,"default":1},
              "maxReplicas":{"type":"integer","default":10},
              "mode":{"type":"string","enum":["fast","slow"]},
              "port":{"x-kubernetes-int-or-string":true},
              "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
              "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
              "optional":{"type":"string","nullable":true}}},
          "status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}
        """);

    private static List<string> Validate(string spec, string? oldSpec = null)
    {
        var schema = SchemaNode.Parse(CronTabSchema);
        var obj = Json($$"""{"spec":{{spec}}}""");
        SchemaPruning.Prune(obj, schema, isResourceRoot: true);
        SchemaDefaulting.Apply(obj, schema);
        var old = oldSpec is null ? null : Json($$"""{"spec":{{oldSpec}}}""");
        return SchemaValidation.Validate(obj, schema, "", old, celRules: true).Select(c => $"{c.Field}: {c.Message}").ToList();
    }

    [Fact]
    public void A_valid_object_passes()
    {
        Assert.Empty(Validate("""{"cronSpec":"* * * * */5","image":"web","port":"http","tags":["a","b"]}"""));
    }

    [Fact]
    public void Types_are_checked_with_the_api_servers_message()
    {
        Assert.Equal(["spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"",
                "<nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"],
            Validate("""{"cronSpec":"* * * * *","replicas":"three"}"""));
    }

    [Fact]
    public void Required_enum_pattern_bounds_and_lengths_are_checked()
    {
        var causes = Validate("""{"replicas":-1,"mode":"medium","image":"a-very-long-image-name-indeed"}""");
        Assert.Contains("spec.cronSpec: Required value", causes);
        Assert.Contains("spec.mode: Unsupported value: \"medium\": supported values: \"fast\", \"slow\"", causes);
        Assert.Contains("spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0", causes);
        Assert.Contains("spec.image: Too long: may not be more than 20 bytes", causes);
        Assert.Contains(Validate("""{"cronSpec":"every minute"}"""), c => c.Contains("spec.cronSpec in body should match"));
    }

    [Fact]
    public void Int_or_string_takes_either_and_nothing_else()
    {
        Assert.Empty(Validate("""{"cronSpec":"* * * * *","port":8080}"""));
        Assert.Contains(Validate("""{"cronSpec":"* * * * *","port":true}"""), c => c.Contains("must be of type integer,string"));
    }

    [Fact]
    public void Sets_refuse_duplicates_and_nulls_need_nullable()
    {
        Assert.Equal(["spec.tags[1]: Duplicate value: \"a\""], Validate("""{"cronSpec":"* * * * *","tags":["a","a"]}"""));
        Assert.Empty(Validate("""{"cronSpec":"* * * * *","optional":null}"""));
    }

    [Fact]
    public void Defaults_fill_missing_fields_and_unknown_fields_are_pruned_except_where_preserved()
    {
        var schema = SchemaNode.Parse(CronTabSchema);
        var obj = Json("""{"apiVersion":"x/v1","kind":"CronTab","metadata":{"name":"a"},"spec":{"cronSpec":"* * * * *","bogus":1,"extra":{"any":{"thing":true}}},"junk":2}""");
        var pruned = SchemaPruning.Prune(obj, schema, isResourceRoot: true);
        SchemaDefaulting.Apply(obj, schema);

        Assert.Equal(["junk", "spec.bogus"], pruned.Order(StringComparer.Ordinal));
        Assert.Equal(1, obj["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(10, obj["spec"]!["maxReplicas"]!.GetValue<int>());
        Assert.True(obj["spec"]!["extra"]!["any"]!["thing"]!.GetValue<bool>());
        Assert.Equal("a", obj["metadata"]!["name"]!.ToString());
    }

    [Fact]
    public void Cel_rules_refuse_with_their_message_and_transition_rules_see_the_old_object()
    {
        Assert.Equal(["spec: Invalid value: \"object\": replicas must not exceed maxReplicas"],
            Validate("""{"cronSpec":"* * * * *","replicas":20,"maxReplicas":5}"""));
        Assert.Empty(Validate("""{"cronSpec":"* * * * *","image":"b"}""")); // a create has no oldSelf
        Assert.Equal(["spec: Invalid value: \"object\": image is immutable"],
            Validate("""{"cronSpec":"* * * * *","image":"b"}""", oldSpec: """{"cronSpec":"* * * * *","image":"a"}"""));
    }

    [Fact]
    public void A_structural_schema_passes_the_check()
    {
        Assert.Empty(StructuralSchemaCheck.Check(CronTabSchema, "spec.versions[0].schema.openAPIV3Schema"));
    }

    [Fact]
    public void A_schema_without_types_is_not_structural()
    {
        var causes = StructuralSchemaCheck.Check(Json("""{"type":"object","properties":{"spec":{"properties":{"a":{"type":"string"}}}}}"""),
            "spec.versions[0].schema.openAPIV3Schema");
        var cause = Assert.Single(causes);
        Assert.Equal("spec.versions[0].schema.openAPIV3Schema.properties[spec].type", cause.Field);
        Assert.Equal("Required value: must not be empty for specified object fields", cause.Message);
    }

    [Fact]
    public void Junctors_may_hold_value_validations_only_and_nothing_unspecified()
    {
        var nested = StructuralSchemaCheck.Check(Json("""
            {"type":"object","properties":{"spec":{"type":"object","anyOf":[{"type":"object"}]}}}
            """), "s").Select(c => $"{c.Field}: {c.Message}").ToList();
        Assert.Equal(["s.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural"], nested);
        var unspecified = StructuralSchemaCheck.Check(Json("""{"type":"object","anyOf":[{"properties":{"x":{"minimum":1}}}]}"""), "s");
        Assert.Equal("s.properties[x]", Assert.Single(unspecified).Field);
        Assert.Equal("Required value: because it is defined in s.anyOf[0].properties[x]", unspecified[0].Message);
    }

    [Fact]
    public void Root_metadata_may_restrict_only_name_and_unsupported_keywords_are_forbidden()
    {
        var causes = StructuralSchemaCheck.Check(Json("""
            {"type":"object","properties":{"metadata":{"type":"object","properties":{"labels":{"type":"object"}}},"a":{"$ref":"#/x"}}}
            """), "s").Select(c => $"{c.Field}: {c.Message}").ToList();
        Assert.Contains("s.properties[a].$ref: Forbidden: $ref is not supported", causes);
        var metadata = StructuralSchemaCheck.Check(Json("""{"type":"object","properties":{"metadata":{"type":"object","properties":{"labels":{"type":"object"}}}}}"""), "s");
        Assert.Equal("Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            Assert.Single(metadata).Message);
    }

    [Fact]
    public void A_rule_that_does_not_compile_and_an_invalid_default_are_refused()
    {
        var causes = StructuralSchemaCheck.Check(Json("""
            {"type":"object","properties":{"spec":{"type":"object","x-kubernetes-validations":[{"rule":"self.a >"}],
             "properties":{"a":{"type":"integer","default":"one"}}}}}
            """), "s").Select(c => $"{c.Field}: {c.Message}").ToList();
        Assert.Contains(causes, c => c.StartsWith("s.properties[spec].x-kubernetes-validations[0].rule: Invalid value: " +
            "apiextensions.ValidationRule{Rule:\"self.a >\", Message:\"\", MessageExpression:\"\", " +
            "Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: compilation failed"));
        var defaults = StructuralSchemaCheck.Check(Json("""{"type":"object","properties":{"a":{"type":"integer","default":"one"}}}"""), "s");
        Assert.Contains("must be of type integer", Assert.Single(defaults).Message);
    }

    [Fact]
    public void AdditionalProperties_true_may_stand_beside_properties_but_false_or_a_schema_may_not()
    {
        const string Allowed = """{"type":"object","properties":{"status":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true}}}""";
        Assert.Empty(StructuralSchemaCheck.Check(Json(Allowed), "s"));
        foreach (var refused in new[] { "false", """{"type":"string"}""" })
        {
            var causes = StructuralSchemaCheck.Check(Json(Allowed.Replace("\"additionalProperties\":true", $"\"additionalProperties\":{refused}")), "s");
            Assert.Contains(causes, c => c.Field == "s.properties[status].additionalProperties" && c.Message == "Forbidden: additionalProperties and properties are mutual exclusive");
        }
    }

    [Fact]
    public void A_deprecated_version_warns_naming_the_preferred_served_version_unless_it_has_its_own_warning()
    {
        var crd = k8s.KubernetesJson.Deserialize<V1CustomResourceDefinition>("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"deprecated.example.com"},
             "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"deprecated","kind":"DeprecatedKind"},
              "versions":[{"name":"v1alpha1","served":true,"storage":false},{"name":"v1beta1","served":true,"storage":false,"deprecated":true},
                          {"name":"v1","served":true,"storage":true},{"name":"v2","served":false,"storage":false},
                          {"name":"v1beta2","served":true,"storage":false,"deprecated":true,"deprecationWarning":"use v1"}]}}
            """);
        var warnings = CustomResourceDescriptions.From(crd).ToDictionary(d => d.Version, d => d.DeprecationWarning);
        Assert.Equal("example.com/v1beta1 DeprecatedKind is deprecated; use example.com/v1 DeprecatedKind", warnings["v1beta1"]);
        Assert.Equal("use v1", warnings["v1beta2"]);
        Assert.Null(warnings["v1"]);
        Assert.Null(warnings["v1alpha1"]);
    }
}
