using System.Text.Json.Nodes;
using k8s.Models;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>
/// A JSON null where the Kubernetes type has no pointer becomes that type's zero value, as Go's decoder makes it:
/// a null list element or map value (<c>labels: {a: null}</c>, <c>containers: [null]</c>) is "" for strings, {} for
/// objects, 0 for numbers and quantities, false for booleans. Without this the model would hold a null that no
/// Kubernetes object can hold. A null field stays absent, which is the same in both.
/// </summary>
internal static class ZeroValues
{
    public static void FillNulls(JsonNode? json, Type type)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        type = Nullable.GetUnderlyingType(type) ?? type;
        switch (json)
        {
            case JsonArray array when StrictFieldValidator.ElementType(type) is { } element:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is null) array[i] = Zero(element);
                    else FillNulls(array[i], element);
                }
                break;
            case JsonObject obj when StrictFieldValidator.MapValueType(type) is { } value:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (obj[key] is null) obj[key] = Zero(value);
                    else FillNulls(obj[key], value);
                }
                break;
            case JsonObject obj when StrictFieldValidator.FieldsOf(type) is { } fields:
                foreach (var (key, child) in obj)
                    if (child is not null && fields.TryGetValue(key, out var fieldType)) FillNulls(child, fieldType);
                break;
        }
    }

    /// <summary>The JSON of a Go zero value of the model type (null where the model type is opaque to us).</summary>
    private static JsonNode? Zero(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type == typeof(byte[])) return JsonValue.Create("");
        if (type == typeof(bool)) return JsonValue.Create(false);
        if (type == typeof(ResourceQuantity)) return JsonValue.Create("0");
        if (type == typeof(IntOrString) || type.IsPrimitive || type == typeof(decimal)) return JsonValue.Create(0);
        if (type == typeof(DateTime)) return null;
        if (StrictFieldValidator.ElementType(type) is not null) return new JsonArray();
        if (StrictFieldValidator.MapValueType(type) is not null || StrictFieldValidator.FieldsOf(type) is not null) return new JsonObject();
        return null;
    }
}
