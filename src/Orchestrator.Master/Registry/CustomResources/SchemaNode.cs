using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// One node of a CustomResourceDefinition's OpenAPI v3 schema (<c>openAPIV3Schema</c>), parsed once per definition
/// for validation, defaulting and pruning of its objects. <see cref="Raw"/> keeps the node as written (OpenAPI
/// documents and the structural check read it).
/// </summary>
internal sealed class SchemaNode
{
    private static readonly IReadOnlyDictionary<string, SchemaNode> NoProperties = new Dictionary<string, SchemaNode>();

    private SchemaNode(JsonObject raw)
    {
        Raw = raw;
        Type = Text(raw, "type");
        if (raw["properties"] is JsonObject properties)
            Properties = properties.Where(p => p.Value is JsonObject)
                .ToDictionary(p => p.Key, p => new SchemaNode((JsonObject)p.Value!));
        else Properties = NoProperties;
        switch (raw["additionalProperties"])
        {
            case JsonObject additional:
                AdditionalProperties = new SchemaNode(additional);
                break;
            case JsonValue allowed when allowed.TryGetValue<bool>(out var flag):
                AdditionalPropertiesAllowed = flag;
                break;
        }
        if (raw["items"] is JsonObject items) Items = new SchemaNode(items);
        Required = Strings(raw, "required");
        Enum = raw["enum"] as JsonArray;
        Pattern = Text(raw, "pattern");
        Minimum = Number(raw, "minimum");
        Maximum = Number(raw, "maximum");
        ExclusiveMinimum = Flag(raw, "exclusiveMinimum");
        ExclusiveMaximum = Flag(raw, "exclusiveMaximum");
        MultipleOf = Number(raw, "multipleOf");
        MinLength = Integer(raw, "minLength");
        MaxLength = Integer(raw, "maxLength");
        MinItems = Integer(raw, "minItems");
        MaxItems = Integer(raw, "maxItems");
        MinProperties = Integer(raw, "minProperties");
        MaxProperties = Integer(raw, "maxProperties");
        Nullable = Flag(raw, "nullable");
        Format = Text(raw, "format");
        Default = raw["default"];
        PreserveUnknownFields = Flag(raw, "x-kubernetes-preserve-unknown-fields");
        IntOrString = Flag(raw, "x-kubernetes-int-or-string");
        EmbeddedResource = Flag(raw, "x-kubernetes-embedded-resource");
        ListType = Text(raw, "x-kubernetes-list-type");
        ListMapKeys = Strings(raw, "x-kubernetes-list-map-keys");
        MapType = Text(raw, "x-kubernetes-map-type");
        Rules = (raw["x-kubernetes-validations"] as JsonArray)?.OfType<JsonObject>().Select(ValidationRule.From).ToList() ?? [];
        AllOf = Nodes(raw, "allOf");
        AnyOf = Nodes(raw, "anyOf");
        OneOf = Nodes(raw, "oneOf");
        if (raw["not"] is JsonObject not) Not = new SchemaNode(not);
    }

    public static SchemaNode Parse(JsonObject raw) => new(raw);

    public JsonObject Raw { get; }
    public string? Type { get; }
    public IReadOnlyDictionary<string, SchemaNode> Properties { get; }
    public SchemaNode? AdditionalProperties { get; }
    public bool AdditionalPropertiesAllowed { get; }
    public SchemaNode? Items { get; }
    public IReadOnlyList<string> Required { get; }
    public JsonArray? Enum { get; }
    public string? Pattern { get; }
    public double? Minimum { get; }
    public double? Maximum { get; }
    public bool ExclusiveMinimum { get; }
    public bool ExclusiveMaximum { get; }
    public double? MultipleOf { get; }
    public long? MinLength { get; }
    public long? MaxLength { get; }
    public long? MinItems { get; }
    public long? MaxItems { get; }
    public long? MinProperties { get; }
    public long? MaxProperties { get; }
    public bool Nullable { get; }
    public string? Format { get; }
    public JsonNode? Default { get; }
    public bool PreserveUnknownFields { get; }
    public bool IntOrString { get; }
    public bool EmbeddedResource { get; }
    public string? ListType { get; }
    public IReadOnlyList<string> ListMapKeys { get; }
    public string? MapType { get; }
    public IReadOnlyList<ValidationRule> Rules { get; }
    public IReadOnlyList<SchemaNode> AllOf { get; }
    public IReadOnlyList<SchemaNode> AnyOf { get; }
    public IReadOnlyList<SchemaNode> OneOf { get; }
    public SchemaNode? Not { get; }

    /// <summary>The pattern as a .NET regular expression (Go's RE2 syntax is a subset for what schemas use).</summary>
    public Regex? PatternRegex => field ??= Pattern is null ? null : new Regex(Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The schema of a map's or object's member <paramref name="key"/>: its property, else additionalProperties.</summary>
    public SchemaNode? Member(string key) => Properties.GetValueOrDefault(key) ?? AdditionalProperties;

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static double? Number(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static long? Integer(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;

    private static IReadOnlyList<string> Strings(JsonObject o, string key) =>
        (o[key] as JsonArray)?.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null)
        .OfType<string>().ToList() ?? [];

    private static IReadOnlyList<SchemaNode> Nodes(JsonObject o, string key) =>
        (o[key] as JsonArray)?.OfType<JsonObject>().Select(n => new SchemaNode(n)).ToList() ?? [];
}

/// <summary>One <c>x-kubernetes-validations</c> rule: a CEL expression over <c>self</c> (and <c>oldSelf</c>).</summary>
internal sealed record ValidationRule(string Rule, string? Message, string? MessageExpression, string? Reason, string? FieldPath,
    bool OptionalOldSelf)
{
    public static ValidationRule From(JsonObject o) => new(
        o["rule"]?.GetValue<string>() ?? "",
        o["message"]?.GetValue<string>(),
        o["messageExpression"]?.GetValue<string>(),
        o["reason"]?.GetValue<string>(),
        o["fieldPath"]?.GetValue<string>(),
        o["optionalOldSelf"] is JsonValue v && v.TryGetValue<bool>(out var b) && b);

    /// <summary>kube's ruleErrorString: the message, else the rule.</summary>
    public string ErrorString => Message is { Length: > 0 } m ? m.Trim() : Rule.Trim();

    /// <summary>kube's ruleMessageOrDefault: the message, else "failed rule: …".</summary>
    public string DefaultMessage => Message is { Length: > 0 } m ? m.Trim() : $"failed rule: {Rule.Trim()}";

    /// <summary>Whether the rule compares with the previous object (a transition rule, skipped on create).</summary>
    public bool UsesOldSelf => System.Text.RegularExpressions.Regex.IsMatch(Rule, @"\boldSelf\b");
}
