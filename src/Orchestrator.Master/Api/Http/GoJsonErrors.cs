using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// A body that does not fit its kind's model, worded as the API server (Go's encoding/json) words it — "json: cannot
/// unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32" — instead of System.Text.Json's
/// message, which names .NET types. The struct and type names are the Kubernetes API's (the model's name without its
/// version prefix); the field is the JSON path without indices, as Go prints it.
/// </summary>
internal static partial class GoJsonErrors
{
    // V1Pod, V1beta1X; and a group's own where two groups share a name (Corev1Event, Authenticationv1TokenRequest)
    [GeneratedRegex(@"^(V|[A-Z][a-z]+v)\d+((alpha|beta)\d+)?(?=[A-Z])")]
    private static partial Regex VersionPrefix();

    [GeneratedRegex(@"^\$|\.(?<name>[^.\[]+)|\['(?<quoted>[^']*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();

    /// <summary>The message for a deserialization failure of <paramref name="json"/> into <paramref name="root"/>.</summary>
    public static string Describe(Exception error, string json, Type root)
    {
        if (error is not JsonException { Path: { Length: > 0 } path }) return WithoutTypeNames(error.Message);
        var segments = Segments(path);
        var (parent, fields, target) = Walk(root, segments);
        var value = ValueKind(json, segments, target is not null && IsNumeric(Unwrap(target)));
        var fieldPath = string.Join(".", fields);
        var type = target is null ? "the field's type" : GoType(target);
        return parent is null || fieldPath.Length == 0
            ? $"json: cannot unmarshal {value} into Go value of type {type}"
            : $"json: cannot unmarshal {value} into Go struct field {GoName(parent)}.{fieldPath} of type {type}";
    }

    [GeneratedRegex(@"(System|k8s|Orchestrator|Microsoft)\.[\w.`+\[\], ]*[\w\]]")]
    private static partial Regex DotNetTypeName();

    /// <summary>Another failure's message (a timestamp or quantity that does not parse), with any .NET type name and
    /// the reader's position cut out.</summary>
    private static string WithoutTypeNames(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal) is var i and >= 0 ? message[..i] : message;
        return DotNetTypeName().Replace(cut, "the field's type");
    }

    private sealed record Segment(string? Name, int? Index);

    private static List<Segment> Segments(string path)
    {
        var segments = new List<Segment>();
        foreach (Match m in PathSegment().Matches(path))
        {
            if (m.Groups["name"].Success) segments.Add(new Segment(m.Groups["name"].Value, null));
            else if (m.Groups["quoted"].Success) segments.Add(new Segment(m.Groups["quoted"].Value, null));
            else if (m.Groups["index"].Success) segments.Add(new Segment(null, int.Parse(m.Groups["index"].Value)));
        }
        return segments;
    }

    /// <summary>What Go calls the offending JSON value: string, number, bool, array, object; a number with its text when
    /// the field is a number that cannot hold it (a fraction, an exponent, or beyond the field's range: Go's literalStore
    /// for int, uint and float kinds).</summary>
    private static string ValueKind(string json, List<Segment> segments, bool numericTarget)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
            foreach (var s in segments)
                node = s.Name is not null ? (node as JsonObject)?[s.Name] : (node as JsonArray) is { } a && s.Index < a.Count ? a[s.Index!.Value] : null;
        }
        catch (JsonException)
        {
            return "value";
        }
        return node switch
        {
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v when v.GetValueKind() is JsonValueKind.String => "string",
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
            JsonValue v when v.GetValueKind() is JsonValueKind.Number => numericTarget ? $"number {v.ToJsonString()}" : "number",
            _ => "value",
        };
    }

    /// <summary>The type holding the last named field, the struct fields' names along the way (Go's FieldStack: no
    /// indices, no map keys) and the target's type, along the model's JSON names.</summary>
    private static (Type? Parent, List<string> Fields, Type? Target) Walk(Type root, List<Segment> segments)
    {
        Type? current = root;
        Type? parent = null;
        var fields = new List<string>();
        foreach (var s in segments)
        {
            if (current is null) return (parent, fields, null);
            current = Unwrap(current);
            if (s.Index is not null)
            {
                current = ElementType(current);
                continue;
            }
            if (DictionaryValueType(current) is { } valueType)
            {
                current = valueType;
                continue;
            }
            var property = current.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? p.Name) == s.Name);
            if (property is null) return (parent, fields, null);
            parent = current;
            fields.Add(s.Name!);
            current = property.PropertyType;
        }
        return (parent, fields, current is null ? null : Unwrap(current));
    }

    private static Type Unwrap(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    private static bool IsNumeric(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(sbyte) || type == typeof(uint) ||
        type == typeof(ulong) || type == typeof(ushort) || type == typeof(byte) || type == typeof(double) || type == typeof(float) ||
        type == typeof(decimal);

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            ?.GetGenericArguments()[0];

    private static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>))?.GetGenericArguments()[1];

    private static string GoName(Type type) => VersionPrefix().Replace(type.Name, "");

    /// <summary>A model type as Go prints the API type: int32, int64, bool, string, float64, []T, map[string]T, or the
    /// struct's package-qualified name (v1.PodSpec, intstr.IntOrString, resource.Quantity).</summary>
    private static string GoType(Type type)
    {
        type = Unwrap(type);
        if (type == typeof(int)) return "int32";
        if (type == typeof(long)) return "int64";
        if (type == typeof(bool)) return "bool";
        if (type == typeof(string)) return "string";
        if (type == typeof(double) || type == typeof(float)) return "float64";
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset)) return "v1.Time";
        if (type == typeof(byte[])) return "[]uint8";
        if (type.Name == "IntOrString") return "intstr.IntOrString";
        if (type.Name == "ResourceQuantity") return "resource.Quantity";
        if (DictionaryValueType(type) is { } value) return $"map[string]{GoType(value)}";
        if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && ElementType(type) is { } element)
            return $"[]{GoType(element)}";
        if (type.Namespace == "k8s.Models") return $"v1.{GoName(type)}";
        return "object";
    }
}
