using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Patching;

/// <summary>
/// Strategic merge patch (application/strategic-merge-patch+json) for the fields kubectl patches: a JSON merge
/// patch in which lists of objects with a Kubernetes merge key merge element by element (containers by name,
/// container ports by containerPort, service ports by port, env by name, volumes by name, volumeMounts by
/// mountPath, conditions by type, …). The directives are kube's: <c>$patch: replace|delete</c> on a map,
/// <c>$patch: replace|delete</c> elements in a keyed list, <c>$retainKeys</c>, and
/// <c>$deleteFromPrimitiveList/&lt;field&gt;</c>; <c>$setElementOrder/&lt;field&gt;</c> only orders and is not
/// applied. An unknown directive, or a keyed-list element without its merge key, is a 400.
/// </summary>
internal static class StrategicMergePatch
{
    private const string Directive = "$patch", RetainKeys = "$retainKeys",
        DeleteFromPrimitiveList = "$deleteFromPrimitiveList/", SetElementOrder = "$setElementOrder/";

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch) => Merge(target, patch, parentField: null);

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch, string? parentField)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        if (patchObject.TryGetPropertyValue(Directive, out var directive))
        {
            switch (Text(directive))
            {
                case "replace":
                    var replaced = (JsonObject)patchObject.DeepClone();
                    replaced.Remove(Directive);
                    return replaced;
                case "delete":
                    return new JsonObject();
                default:
                    throw BadPatchType(directive, patchObject);
            }
        }
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (key == RetainKeys || key.StartsWith(SetElementOrder, StringComparison.Ordinal)) continue;
            if (key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal))
            {
                DeleteFromList(result, key[DeleteFromPrimitiveList.Length..], value);
                continue;
            }
            if (value is null)
            {
                result.Remove(key);
                continue;
            }
            if (value is JsonArray patchList && MergeKeyFor(key, parentField) is { } mergeKey)
                result[key] = MergeList(result[key] as JsonArray, patchList, mergeKey, key);
            else
                result[key] = Merge(result[key], value, key);
        }
        if (patchObject[RetainKeys] is { } retain) Retain(result, retain);
        return result;
    }

    internal static string? MergeKeyFor(string field, string? parentField) => ListMergeKeys.For(field, parentField);

    private static JsonArray MergeList(JsonArray? target, JsonArray patch, string mergeKey, string field)
    {
        var elements = new List<JsonObject>();
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        var replace = false;
        foreach (var element in patch)
        {
            if (element is not JsonObject patchElement)
                throw ApiException.BadRequest($"the elements of the list \"{field}\" merge by \"{mergeKey}\" and must be objects, got {element?.ToJsonString() ?? "null"}");
            if (!patchElement.TryGetPropertyValue(Directive, out var directive))
            {
                elements.Add(patchElement);
                continue;
            }
            switch (Text(directive))
            {
                case "replace":
                    replace = true;
                    break;
                case "delete":
                    deleted.Add(KeyOf(patchElement, mergeKey));
                    break;
                case "merge":
                    throw ApiException.BadRequest("merging lists cannot yet be specified in the patch");
                default:
                    throw BadPatchType(directive, patchElement);
            }
        }
        if (replace) return new JsonArray(elements.Select(e => (JsonNode?)e.DeepClone()).ToArray());

        var result = new JsonArray();
        foreach (var element in target ?? [])
            if (!(element is JsonObject o && o[mergeKey] is { } value && deleted.Contains(value.ToJsonString())))
                result.Add(element?.DeepClone());
        var index = Index(result, mergeKey);
        foreach (var patchElement in elements)
        {
            var key = KeyOf(patchElement, mergeKey);
            if (index.TryGetValue(key, out var position))
            {
                result[position] = Merge(result[position], patchElement, field);
            }
            else
            {
                index[key] = result.Count;
                result.Add(Merge(null, patchElement, field));
            }
        }
        return result;
    }

    /// <summary>The position of each element by its merge key's JSON (the first of equal keys), so merging a long
    /// list costs one pass, not one pass per element.</summary>
    private static Dictionary<string, int> Index(JsonArray list, string mergeKey)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
            if (list[i] is JsonObject o && o[mergeKey] is { } value)
                index.TryAdd(value.ToJsonString(), i);
        return index;
    }

    private static string KeyOf(JsonObject element, string mergeKey) =>
        element[mergeKey]?.ToJsonString()
        ?? throw ApiException.BadRequest($"map: {element.ToJsonString()} does not contain declared merge key: {mergeKey}");

    private static void DeleteFromList(JsonObject result, string field, JsonNode? values)
    {
        if (values is not JsonArray remove)
            throw ApiException.BadRequest($"invalid patch: {DeleteFromPrimitiveList}{field} must be a list");
        if (result[field] is not JsonArray list) return;
        var unwanted = remove.Select(v => v?.ToJsonString() ?? "null").ToHashSet(StringComparer.Ordinal);
        for (var i = list.Count - 1; i >= 0; i--)
            if (unwanted.Contains(list[i]?.ToJsonString() ?? "null")) list.RemoveAt(i);
    }

    /// <summary><c>$retainKeys</c>: the fields of the map that are not listed go.</summary>
    private static void Retain(JsonObject result, JsonNode retain)
    {
        if (retain is not JsonArray keys || keys.Any(k => k is not JsonValue v || !v.TryGetValue<string>(out _)))
            throw ApiException.BadRequest("invalid patch: $retainKeys must be a list of strings");
        var kept = keys.Select(k => k!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        foreach (var key in result.Select(p => p.Key).Where(k => !kept.Contains(k)).ToList()) result.Remove(key);
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString();

    private static ApiException BadPatchType(JsonNode? directive, JsonObject map) =>
        ApiException.BadRequest($"unknown patch type: {Text(directive) ?? "null"} in map: {map.ToJsonString()}");
}
