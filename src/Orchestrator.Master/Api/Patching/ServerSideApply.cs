using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Store;

namespace Orchestrator.Master.Api.Patching;

/// <summary>
/// Server-side apply (application/apply-patch+yaml), simplified: no ownership conflicts and no shared ownership.
/// The applied configuration is merged into the object as desired fields (strategic-merge rules for keyed lists);
/// the fields this field manager applied last time and no longer applies are removed. What a manager applied is
/// kept where Kubernetes keeps it: its <c>metadata.managedFields</c> entry (operation Apply, FieldsV1 set).
/// Fields set by other managers (updates, other appliers) are never removed by an apply, and <c>force</c> has
/// nothing to override.
/// </summary>
internal static class ServerSideApply
{
    /// <summary>Parses the body within <see cref="BodyLimits"/>: JSON (what kubectl sends) or YAML. The caller handles
    /// the duplicate fields it reports.</summary>
    public static (JsonObject Applied, IReadOnlyList<string> DuplicateFields) ParseBody(byte[] body)
    {
        if (body.Length == 0) throw ApiException.BadRequest("the body of the request was empty");
        ParsedBody parsed;
        try
        {
            parsed = LooksLikeJson(body) ? JsonBody.Parse(body) : YamlBody.Parse(body);
        }
        catch (MalformedBodyException e)
        {
            throw ApiException.BadRequest($"error decoding patch: {e.Message}");
        }
        return parsed.Root is JsonObject applied
            ? (applied, parsed.DuplicateFields)
            : throw ApiException.BadRequest("error decoding patch: the applied configuration is not an object");
    }

    /// <summary>The identity of the applied configuration must be the endpoint's, as kube-apiserver's field manager
    /// requires ("invalid object type: /v1, Kind=Pod" for a wrong or missing apiVersion or kind).</summary>
    public static void CheckType(JsonObject applied, string group, string version, string kind)
    {
        var apiVersion = applied["apiVersion"] is JsonValue a && a.TryGetValue<string>(out var av) ? av : "";
        var appliedKind = applied["kind"] is JsonValue k && k.TryGetValue<string>(out var ak) ? ak : "";
        var expected = group.Length == 0 ? version : $"{group}/{version}";
        if (apiVersion == expected && appliedKind == kind) return;
        var slash = apiVersion.IndexOf('/');
        var (g, v) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        throw ApiException.BadRequest($"invalid object type: {g}/{v}, Kind={appliedKind}");
    }

    /// <summary>YAML is a superset of JSON, but JSON is read by the JSON reader, whose errors are clearer.</summary>
    private static bool LooksLikeJson(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == (byte)'{';
        }
        return false;
    }

    /// <summary>The object after <paramref name="manager"/> applies <paramref name="applied"/> to
    /// <paramref name="current"/> (null: the object does not exist yet).</summary>
    public static JsonObject Apply(JsonObject? current, JsonObject applied, string manager, DateTime now)
    {
        applied = (JsonObject)applied.DeepClone();
        applied.Remove("status");
        if (applied["metadata"] is JsonObject meta)
            foreach (var server in new[] { "managedFields", "resourceVersion", "uid", "creationTimestamp", "generation" })
                meta.Remove(server);
        var fields = ManagedFields.FieldSet(applied, field: null, parentField: null);
        foreach (var identity in new[] { "f:apiVersion", "f:kind" }) fields.Remove(identity);
        if (fields["f:metadata"] is JsonObject metaFields)
            foreach (var identity in new[] { "f:name", "f:namespace" }) metaFields.Remove(identity);

        var managed = (current?["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>()
            .Select(e => (JsonObject)e.DeepClone()).ToList() ?? [];
        var previous = managed.FirstOrDefault(e => e["manager"]?.ToString() == manager && e["operation"]?.ToString() == "Apply");

        var result = (JsonObject)(StrategicMergePatch.Apply(current, applied) ?? new JsonObject());
        if (previous?["fieldsV1"] is JsonObject previousFields) RemoveStale(result, previousFields, fields, field: null, parentField: null);

        // The same configuration applied again keeps its entry's time, so that a repeated apply writes nothing.
        var time = previous is not null && JsonNode.DeepEquals(previous["fieldsV1"], fields) &&
                   JsonNode.DeepEquals(Without(result, "managedFields"), Without(current, "managedFields"))
            ? previous["time"]?.ToString()
            : null;
        if (previous is not null) managed.Remove(previous);
        managed.Add(new JsonObject
        {
            ["manager"] = manager,
            ["operation"] = ManagedFields.Apply,
            ["apiVersion"] = applied["apiVersion"]?.DeepClone(),
            ["time"] = time ?? now.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = fields,
        });
        var resultMeta = result["metadata"] as JsonObject ?? new JsonObject();
        result["metadata"] = resultMeta;
        resultMeta["managedFields"] = new JsonArray(managed.Select(m => (JsonNode?)m).ToArray());
        return result;
    }

    private static JsonObject? Without(JsonObject? obj, string metadataField)
    {
        if (obj is null) return null;
        var copy = (JsonObject)obj.DeepClone();
        (copy["metadata"] as JsonObject)?.Remove(metadataField);
        return copy;
    }

    private static void RemoveStale(JsonObject obj, JsonObject previous, JsonObject next, string? field, string? parentField)
    {
        foreach (var (key, previousChild) in previous)
        {
            if (!key.StartsWith("f:")) continue;
            var name = key[2..];
            var nextChild = next[key] as JsonObject;
            if (previousChild is not JsonObject { Count: > 0 } previousSet)
            {
                // A leaf this manager set and no longer sets.
                if (nextChild is null) obj.Remove(name);
                continue;
            }
            // A map or keyed list: remove only the parts this manager owned, so what other writers added stays;
            // a container left empty by that goes too.
            var wasAbandoned = nextChild is null;
            nextChild ??= new JsonObject();
            switch (obj[name])
            {
                case JsonObject child:
                    RemoveStale(child, previousSet, nextChild, name, field);
                    if (wasAbandoned && child.Count == 0) obj.Remove(name);
                    break;
                case JsonArray list:
                    RemoveStaleElements(list, previousSet, nextChild, name, field);
                    if (wasAbandoned && list.Count == 0) obj.Remove(name);
                    break;
                default:
                    if (wasAbandoned) obj.Remove(name);
                    break;
            }
        }
    }

    private static void RemoveStaleElements(JsonArray list, JsonObject previous, JsonObject next, string field, string? parentField)
    {
        var mergeKey = ListMergeKeys.For(field, parentField);
        if (mergeKey is null) return;
        // The position of each element by its key, as FieldSet names it ("k:{"name":"c"}"): one pass over the list.
        var positions = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var element in list.OfType<JsonObject>())
            if (element[mergeKey] is { } keyValue) positions.TryAdd(ManagedFields.ElementKey(mergeKey, keyValue), element);
        var removed = new HashSet<JsonObject>(ReferenceEqualityComparer.Instance);
        foreach (var (key, previousElement) in previous)
        {
            if (!key.StartsWith("k:") || !positions.TryGetValue(key, out var element)) continue;
            if (next[key] is not JsonObject nextElement) removed.Add(element);
            else if (previousElement is JsonObject previousSet) RemoveStale(element, previousSet, nextElement, field, parentField);
        }
        if (removed.Count == 0) return;
        for (var i = list.Count - 1; i >= 0; i--)
            if (list[i] is JsonObject e && removed.Contains(e)) list.RemoveAt(i);
    }
}
