using System.Collections.Concurrent;
using System.Text.Json;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>
/// A JSON body of a built-in resource decoded straight from its text when its tree would change nothing on the way
/// (<see cref="RequestBodies.ReadObjectAsync"/>'s tree: parse, unknown fields, 1.33+ fields removed, Go zero values for
/// nulls, written back to text, decoded): no duplicate field, no field the model lacks (so none reported and none
/// removed), no null as a list element or map value (so none filled), top-level apiVersion and kind strings or absent.
/// The tree's text and the body's differ then only in whitespace and string escapes, which decode the same; so the
/// object decoded is the same, and so is everything answered. Anything else — and any body the decoder refuses, so that
/// its message is the tree's — is null here, and goes through the tree as before. Most bodies (every create by
/// kubectl or a client library) are plain; the tree and its three walks were most of the cost of reading one.
/// </summary>
internal static class PlainBodies
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = BodyLimits.MaxDepth + 1 };

    public static IKubernetesObject<V1ObjectMeta>? TryDecode(byte[] body, ResourceDescription resource, out string? kind,
        out string? apiVersion)
    {
        kind = apiVersion = null;
        if (resource.FieldValidator is not null || resource.ObjectType == typeof(CustomObject)) return null;
        // A byte-order mark: the text would differ from the tree's (which drops it).
        if (body.Length == 0 || body[0] == 0xEF) return null;
        try
        {
            // Syntax, UTF-8, depth and duplicates exactly as the tree's parse checks them.
            if (JsonBody.Scan(body).Count > 0) return null;
        }
        catch (MalformedBodyException)
        {
            return null;
        }
        if (!IsPlain(body, resource.ObjectType, out kind, out apiVersion)) return null;
        try
        {
            // from the UTF-8 text with KubernetesJson's own options: what its string method reads, without the string
            return (IKubernetesObject<V1ObjectMeta>)KubeObjects.Deserialize(body, resource.ObjectType);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException
                                      or NotSupportedException or OverflowException or InvalidCastException)
        {
            return null;
        }
    }

    /// <summary>One pass over a body the scan found well formed, with the model type of each open object or list, as
    /// <see cref="StrictFieldValidator"/> and <see cref="ZeroValues"/> walk the tree: false at the first field the
    /// model lacks, the first null they would replace, or an apiVersion or kind that is not a string.</summary>
    internal static bool IsPlain(ReadOnlySpan<byte> body, Type type, out string? kind, out string? apiVersion)
    {
        kind = apiVersion = null;
        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        var root = Shape.Of(type);
        if (root.Fields is null || root.MapValue is not null) return false;
        var open = new Stack<(Shape Shape, Role Role)>();
        open.Push((root, Role.Model));
        Type? field = null; // the type of the value after a model's field name
        var topField = TopField.None;
        Span<char> name = stackalloc char[128];
        while (reader.Read())
        {
            var (top, role) = open.Peek();
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                if (role == Role.Map) continue; // a map takes any key
                Type? found;
                if (!reader.ValueIsEscaped && reader.ValueSpan.Length <= name.Length)
                {
                    var length = System.Text.Encoding.UTF8.GetChars(reader.ValueSpan, name);
                    top.Lookup.TryGetValue(name[..length], out found);
                }
                else top.Fields!.TryGetValue(reader.GetString()!, out found);
                if (found is null) return false;
                field = found;
                topField = open.Count > 1 ? TopField.None
                    : reader.ValueTextEquals("kind"u8) ? TopField.Kind
                    : reader.ValueTextEquals("apiVersion"u8) ? TopField.ApiVersion : TopField.None;
                continue;
            }
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                open.Pop();
                continue;
            }
            // a value: of the model's field, the map's values or the list's elements
            var valueType = role switch { Role.Map => top.MapValue, Role.List => top.Element, _ => field };
            if (topField != TopField.None)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    if (topField == TopField.Kind) kind = reader.GetString();
                    else apiVersion = reader.GetString();
                }
                else if (reader.TokenType != JsonTokenType.Null) return false;
                topField = TopField.None;
            }
            switch (reader.TokenType)
            {
                case JsonTokenType.Null when role != Role.Model:
                    return false; // a list element or map value: the tree would give it Go's zero value
                case JsonTokenType.StartObject:
                {
                    var shape = Shape.Of(valueType!);
                    if (shape.MapValue is not null) open.Push((shape, Role.Map));
                    else if (shape.Fields is not null) open.Push((shape, Role.Model));
                    else reader.Skip(); // opaque to the walks (IntOrString, quantities, raw JSON): nothing in it changes
                    break;
                }
                case JsonTokenType.StartArray:
                {
                    var shape = Shape.Of(valueType!);
                    if (shape.Element is not null) open.Push((shape, Role.List));
                    else reader.Skip();
                    break;
                }
            }
        }
        return true;
    }

    private enum TopField { None, Kind, ApiVersion }

    /// <summary>What an open object or list is to the walks: a map, a model's fields, a list.</summary>
    private enum Role { Map, Model, List }

    /// <summary>How the walks see a model type: a map (its values' type), a list (its elements' type), a model (its
    /// fields by JSON name), or none of them (opaque).</summary>
    private sealed class Shape
    {
        private static readonly ConcurrentDictionary<Type, Shape> Shapes = new();

        public Type? MapValue { get; private init; }
        public Type? Element { get; private init; }
        public Dictionary<string, Type>? Fields { get; private init; }
        public Dictionary<string, Type>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; private init; }

        public static Shape Of(Type type) => Shapes.GetOrAdd(type, t =>
        {
            var plain = Nullable.GetUnderlyingType(t) ?? t;
            var fields = StrictFieldValidator.FieldsOf(plain) is { } known ? new Dictionary<string, Type>(known, StringComparer.Ordinal) : null;
            return new Shape
            {
                MapValue = StrictFieldValidator.MapValueType(plain),
                Element = StrictFieldValidator.ElementType(plain),
                Fields = fields,
                Lookup = fields?.GetAlternateLookup<ReadOnlySpan<char>>() ?? default,
            };
        });
    }
}
