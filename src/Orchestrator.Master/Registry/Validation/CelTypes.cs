using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orchestrator.Master.Registry.Validation;

internal enum CelKind { Dyn, Error, Null, Bool, Int, Uint, Double, String, Bytes, Timestamp, Duration, List, Map, Object, Type, Opaque }

/// <summary>
/// A CEL type as cel-go's checker sees it, for <see cref="CelTypeCheck"/>: the primitives, list and map, an object
/// declared by a structural schema (kube's DeclType: its fields are the schema's properties, escaped as kube escapes
/// them), type values, and opaque library types (quantity, url, ip, optional…), which are treated as dyn. Object types
/// are named as kube names them (<c>selfTypeN</c> for the rule's node, <c>selfTypeN.spec</c> below it,
/// <c>.@idx</c> for list items, <c>.@elem</c> for map values).
/// </summary>
internal sealed class CelType
{
    public CelKind Kind { get; }
    public string Name { get; }
    public IReadOnlyList<CelType> Params { get; }
    private readonly JsonObject? schema;
    private readonly bool resourceRoot;
    private readonly Func<string, JsonObject?>? refs;
    private readonly IReadOnlyDictionary<string, CelType>? declared;
    private Dictionary<string, (JsonObject? Schema, bool Embedded)>? fields;

    private CelType(CelKind kind, string name, IReadOnlyList<CelType>? parameters = null, JsonObject? schema = null,
        bool resourceRoot = false, Func<string, JsonObject?>? refs = null, IReadOnlyDictionary<string, CelType>? declared = null)
    {
        Kind = kind;
        Name = name;
        Params = parameters ?? [];
        this.schema = schema;
        this.resourceRoot = resourceRoot;
        this.refs = refs;
        this.declared = declared;
    }

    public static readonly CelType Dyn = new(CelKind.Dyn, "dyn");
    public static readonly CelType Error = new(CelKind.Error, "!error!");
    public static readonly CelType Null = new(CelKind.Null, "null");
    public static readonly CelType Bool = new(CelKind.Bool, "bool");
    public static readonly CelType Int = new(CelKind.Int, "int");
    public static readonly CelType Uint = new(CelKind.Uint, "uint");
    public static readonly CelType Double = new(CelKind.Double, "double");
    public static readonly CelType String = new(CelKind.String, "string");
    public static readonly CelType Bytes = new(CelKind.Bytes, "bytes");
    public static readonly CelType Timestamp = new(CelKind.Timestamp, "timestamp");
    public static readonly CelType Duration = new(CelKind.Duration, "duration");

    public static CelType List(CelType element) => new(CelKind.List, "list", [element]);
    public static CelType Map(CelType key, CelType value) => new(CelKind.Map, "map", [key, value]);
    public static CelType TypeOf(CelType of) => new(CelKind.Type, "type", [of]);
    public static CelType Opaque(string name) => new(CelKind.Opaque, name);

    /// <summary>An object type with the given fields (kube's hand-made DeclTypes: the admission request, the namespace,
    /// the policy's variables).</summary>
    public static CelType Record(string name, IReadOnlyDictionary<string, CelType> fields) =>
        new(CelKind.Object, name, declared: fields);

    /// <summary>Dyn, an error, or an opaque library type: anything goes with it (the checker does not
    /// refuse).</summary>
    public bool IsWild => Kind is CelKind.Dyn or CelKind.Error or CelKind.Opaque;

    /// <summary>cel-go's FormatCELType.</summary>
    public override string ToString() => Kind switch
    {
        CelKind.List or CelKind.Map => $"{Name}({string.Join(", ", Params)})",
        CelKind.Type => $"type({Params[0]})",
        _ => Name,
    };

    /// <summary>kube's SchemaDeclType: the CEL type of values of the schema node, named <paramref name="name"/>, or
    /// null where kube has none (no type, an array without items), which leaves the field out of its object. A resource
    /// root (the custom resource's root, an embedded resource) also declares apiVersion, kind and
    /// metadata.name/generateName. As in kube, x-kubernetes-preserve-unknown-fields adds no fields: only declared
    /// properties can be selected. <paramref name="refs"/> resolves an OpenAPI document's references (<c>$ref</c>, or <c>allOf</c> of one
    /// reference, as kube's schema resolver inlines them) by their reference text, for a published schema.</summary>
    public static CelType? FromSchema(JsonObject s, string name, bool resourceRoot, Func<string, JsonObject?>? refs = null)
    {
        s = Resolve(s, refs);
        if (Flag(s, "x-kubernetes-int-or-string")) return Dyn;
        switch (Text(s, "type"))
        {
            case "array":
                if (s["items"] is not JsonObject items) return null;
                items = Resolve(items, refs);
                return FromSchema(items, name + ".@idx", Flag(items, "x-kubernetes-embedded-resource"), refs) is { } element
                    ? List(element)
                    : null;
            case "object":
                if (s["additionalProperties"] is JsonObject additional)
                {
                    additional = Resolve(additional, refs);
                    return FromSchema(additional, name + ".@elem", Flag(additional, "x-kubernetes-embedded-resource"), refs) is { } value
                        ? Map(String, value)
                        : null;
                }
                return new CelType(CelKind.Object, name, schema: s, resourceRoot: resourceRoot, refs: refs);
            case "string":
                return Text(s, "format") switch
                {
                    "byte" => Bytes,
                    "duration" => Duration,
                    "date" or "date-time" => Timestamp,
                    _ => String,
                };
            case "boolean": return Bool;
            case "number": return Double;
            case "integer": return Int;
            default: return null;
        }
    }

    /// <summary>The type of an object's field (by its escaped name), or null when the object has no such
    /// field.</summary>
    public CelType? Field(string name)
    {
        if (declared is not null) return declared.GetValueOrDefault(name);
        fields ??= Fields();
        return fields.TryGetValue(name, out var field) && field.Schema is not null
            ? FromSchema(field.Schema, $"{Name}.{name}", field.Embedded, refs)
            : null;
    }

    private Dictionary<string, (JsonObject?, bool)> Fields()
    {
        var result = new Dictionary<string, (JsonObject?, bool)>(StringComparer.Ordinal);
        foreach (var (property, value) in schema?["properties"] as JsonObject ?? [])
            if (Escape(property) is { } escaped && value is JsonObject v)
            {
                var resolved = Resolve(v, refs);
                result[escaped] = (resolved, Flag(resolved, "x-kubernetes-embedded-resource"));
            }
        if (resourceRoot && !DeclaresTypeAndObjectMeta(schema, refs))
        {
            var str = new JsonObject { ["type"] = "string" };
            result["apiVersion"] = (str, false);
            result["kind"] = (str, false);
            result["metadata"] = (new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["name"] = str.DeepClone(), ["generateName"] = str.DeepClone() },
            }, false);
        }
        return result;
    }

    /// <summary>kube's WithTypeAndObjectMeta leaves a schema alone that declares kind, apiVersion and
    /// metadata.name/generateName itself (with their types); else those four replace what it declares.</summary>
    private static bool DeclaresTypeAndObjectMeta(JsonObject? s, Func<string, JsonObject?>? refs)
    {
        string? TypeOf(JsonNode? node) => node is JsonObject o ? Text(Resolve(o, refs), "type") : null;
        var properties = s?["properties"] as JsonObject;
        var metadata = properties?["metadata"] is JsonObject m ? Resolve(m, refs) : null;
        var meta = metadata?["properties"] as JsonObject;
        return TypeOf(properties?["kind"]) == "string" && TypeOf(properties?["apiVersion"]) == "string" &&
               TypeOf(metadata) == "object" && TypeOf(meta?["name"]) == "string" && TypeOf(meta?["generateName"]) == "string";
    }

    /// <summary>The schema a reference stands for (<c>$ref</c>, or an <c>allOf</c> of one reference, which is how a
    /// published schema adds a description to one); the schema itself when it is none, or when it cannot be resolved
    /// (then it declares no type, and so no field, as kube leaves out what it cannot resolve).</summary>
    private static JsonObject Resolve(JsonObject s, Func<string, JsonObject?>? refs)
    {
        for (var hops = 0; refs is not null && hops < 8; hops++)
        {
            var reference = s["$ref"] is JsonValue r && r.TryGetValue<string>(out var text)
                ? text
                : s["allOf"] is JsonArray { Count: 1 } all && all[0] is JsonObject only && only["$ref"] is JsonValue r1 &&
                  r1.TryGetValue<string>(out var text1) && s["type"] is null
                    ? text1
                    : null;
            if (reference is null || refs(reference) is not { } target) return s;
            s = target;
        }
        return s;
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    };

    private static readonly Regex Expand = new(@"(__|[-./]|[^a-zA-Z0-9\-./_])", RegexOptions.Compiled);

    /// <summary>kube's property-name escaping for CEL (<c>__dash__</c>, <c>__dot__</c>, <c>__slash__</c>,
    /// <c>__underscores__</c>, reserved words as <c>__word__</c>); null for a name CEL cannot reach.</summary>
    public static string? Escape(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) return null;
        if (Reserved.Contains(name)) return $"__{name}__";
        var ok = true;
        var escaped = Expand.Replace(name, m =>
        {
            switch (m.Value)
            {
                case "__": return "__underscores__";
                case ".": return "__dot__";
                case "-": return "__dash__";
                case "/": return "__slash__";
                default:
                    ok = false;
                    return "";
            }
        });
        return ok ? escaped : null;
    }

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
