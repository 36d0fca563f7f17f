using System.Text.Json.Nodes;

namespace Orchestrator.Master.Api.Patching;

/// <summary>
/// Strategic merge patch (application/strategic-merge-patch+json) for the fields kubectl patches: a JSON merge
/// patch in which lists of objects with a Kubernetes merge key merge element by element (containers by name,
/// container ports by containerPort, service ports by port, env by name, volumes by name, volumeMounts by
/// mountPath, conditions by type, …) and <c>$patch: delete|replace</c> directives apply; other lists replace.
/// </summary>
internal static class StrategicMergePatch
{
    // Merge keys by field name, as in the Kubernetes API types' patchMergeKey tags.
    private static readonly Dictionary<string, string> MergeKeys = new()
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["conditions"] = "type",
        ["imagePullSecrets"] = "name",
        ["hostAliases"] = "ip",
        ["ownerReferences"] = "uid",
        ["addresses"] = "type",
        ["topologySpreadConstraints"] = "topologyKey",
        ["resourceClaims"] = "name",
        ["containerStatuses"] = "name",
        ["initContainerStatuses"] = "name",
    };

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch) => Merge(target, patch, parentField: null);

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch, string? parentField)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        if (patchObject["$patch"]?.ToString() == "replace")
        {
            var replaced = (JsonObject)patchObject.DeepClone();
            replaced.Remove("$patch");
            return replaced;
        }
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (key.StartsWith('$')) continue; // $retainKeys, $setElementOrder/…, $deleteFromPrimitiveList/… : ordering hints
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
        return result;
    }

    internal static string? MergeKeyFor(string field, string? parentField) => field switch
    {
        // Container ports merge by containerPort; Service ports by port.
        "ports" => parentField is "spec" ? "port" : "containerPort",
        _ => MergeKeys.GetValueOrDefault(field),
    };

    private static JsonArray MergeList(JsonArray? target, JsonArray patch, string mergeKey, string field)
    {
        if (patch.OfType<JsonObject>().Any(e => e["$patch"]?.ToString() == "replace"))
            return new JsonArray(patch.OfType<JsonObject>().Where(e => e["$patch"]?.ToString() != "replace")
                .Select(e => (JsonNode?)e.DeepClone()).ToArray());

        var result = target is null ? new JsonArray() : (JsonArray)target.DeepClone();
        foreach (var element in patch)
        {
            if (element is not JsonObject patchElement || patchElement[mergeKey] is not { } keyValue)
            {
                result.Add(element?.DeepClone());
                continue;
            }
            var index = IndexOf(result, mergeKey, keyValue);
            if (patchElement["$patch"]?.ToString() == "delete")
            {
                if (index >= 0) result.RemoveAt(index);
                continue;
            }
            if (index >= 0)
                result[index] = Merge(result[index], patchElement, field);
            else
                result.Add(Merge(null, patchElement, field));
        }
        return result;
    }

    private static int IndexOf(JsonArray list, string mergeKey, JsonNode keyValue)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] is JsonObject o && JsonNode.DeepEquals(o[mergeKey], keyValue))
                return i;
        return -1;
    }
}
