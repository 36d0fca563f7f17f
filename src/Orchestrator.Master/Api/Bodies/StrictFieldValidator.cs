using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Orchestrator.Master.Api.Bodies;

/// <summary>
/// Server-side field validation (<c>?fieldValidation=Strict</c>): finds the fields of a JSON body that the CLR
/// model does not have, by the models' <see cref="JsonPropertyNameAttribute"/> names, recursively through
/// nested models, lists and maps. Paths read like the real server's: <c>spec.template.spec.containers[0].foo</c>.
/// </summary>
internal static class StrictFieldValidator
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, Type>?> Fields = new();

    /// <summary>Fields the client library's models have that Kubernetes 1.32 does not: they came in 1.33 and 1.34
    /// (container restart rules, env from files, pod certificate projections, stop signals, hostname overrides).
    /// kube-apiserver 1.32 does not know them, so they are unknown fields here too: Strict refuses them (400), Warn
    /// warns and drops them, as it drops any unknown field. Before, the docs' restart-all-containers.yaml was stored with
    /// restartPolicyRules no node acts on.</summary>
    private static readonly HashSet<(Type, string)> LaterFields =
    [
        (typeof(V1Container), "restartPolicyRules"),
        (typeof(V1EphemeralContainer), "restartPolicyRules"),
        (typeof(V1EnvVarSource), "fileKeyRef"),
        (typeof(V1VolumeProjection), "podCertificate"),
        (typeof(V1Lifecycle), "stopSignal"),
        (typeof(V1PodSpec), "hostnameOverride"),
    ];

    /// <summary>Removes the <see cref="LaterFields"/> from a body (after they were reported), so that the model does
    /// not take them.</summary>
    public static void RemoveLaterFields(JsonNode? json, Type type)
    {
        if (json is null) return;
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (json is JsonArray array && ElementType(type) is { } element)
        {
            foreach (var item in array) RemoveLaterFields(item, element);
            return;
        }
        if (json is not JsonObject obj) return;
        if (MapValueType(type) is { } valueType)
        {
            foreach (var (_, value) in obj) RemoveLaterFields(value, valueType);
            return;
        }
        if (FieldsOf(type) is not { } fields) return;
        foreach (var key in obj.Select(p => p.Key).ToList())
        {
            if (LaterFields.Contains((type, key))) obj.Remove(key);
            else if (fields.TryGetValue(key, out var fieldType)) RemoveLaterFields(obj[key], fieldType);
        }
    }

    public static IReadOnlyList<string> UnknownFields(JsonNode? json, Type type)
    {
        var unknown = new List<string>();
        Walk(json, type, "", unknown);
        return unknown;
    }

    private static void Walk(JsonNode? json, Type type, string path, List<string> unknown)
    {
        if (json is null) return;
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        type = Nullable.GetUnderlyingType(type) ?? type;

        if (json is JsonArray array && ElementType(type) is { } element)
        {
            for (var i = 0; i < array.Count; i++) Walk(array[i], element, $"{path}[{i}]", unknown);
            return;
        }
        if (json is not JsonObject obj) return;

        if (MapValueType(type) is { } valueType)
        {
            foreach (var (key, value) in obj) Walk(value, valueType, Join(path, key), unknown);
            return;
        }
        var fields = FieldsOf(type);
        if (fields is null) return; // not a model we can check (object, JsonElement, …)
        foreach (var (key, value) in obj)
        {
            if (fields.TryGetValue(key, out var fieldType))
                Walk(value, fieldType, Join(path, key), unknown);
            else
                unknown.Add(Join(path, key));
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    internal static IReadOnlyDictionary<string, Type>? FieldsOf(Type type) => Fields.GetOrAdd(type, t =>
    {
        // Only the Kubernetes models are checked; anything else (IntOrString, quantities, primitives) is opaque.
        if (t.Namespace != "k8s.Models" || !t.IsClass) return null;
        var props = t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Name: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, p.PropertyType))
            .Where(p => p.Name is not null && !LaterFields.Contains((t, p.Name)))
            .ToDictionary(p => p.Name!, p => p.PropertyType);
        return props.Count == 0 ? null : props;
    });

    // Type.GetInterfaces allocates a new array each call; the walks ask for every node of every body.
    private static readonly ConcurrentDictionary<Type, Type?> ElementTypes = new(), MapValueTypes = new();

    internal static Type? ElementType(Type type) => ElementTypes.GetOrAdd(type, FindElementType);

    internal static Type? MapValueType(Type type) => MapValueTypes.GetOrAdd(type, FindMapValueType);

    private static Type? FindElementType(Type type)
    {
        if (type == typeof(string)) return null;
        if (type.IsArray) return type.GetElementType();
        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        if (enumerable is null || MapValueType(type) is not null) return null;
        return enumerable.GetGenericArguments()[0];
    }

    private static Type? FindMapValueType(Type type)
    {
        var map = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return map?.GetGenericArguments()[1] ?? (typeof(IDictionary).IsAssignableFrom(type) ? typeof(object) : null);
    }
}
