using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Master.Api.Http;
using YamlDotNet.Serialization;

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
    /// <summary>Parses the body: JSON (what kubectl sends) or YAML.</summary>
    public static JsonObject ParseBody(byte[] body)
    {
        if (body.Length == 0) throw ApiException.BadRequest("the body of the request was empty");
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw ApiException.BadRequest("the applied configuration is not an object");
        }
        catch (JsonException)
        {
            // Not JSON: YAML, converted through plain .NET values.
        }
        try
        {
            var yaml = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build()
                .Deserialize<object>(System.Text.Encoding.UTF8.GetString(body));
            return JsonSerializer.SerializeToNode(yaml) as JsonObject
                   ?? throw ApiException.BadRequest("the applied configuration is not an object");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw ApiException.BadRequest($"error decoding YAML: {e.Message}");
        }
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
        var fields = FieldSet(applied, field: null, parentField: null);
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
            ["operation"] = "Apply",
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

    /// <summary>The FieldsV1 set of a configuration: "f:name" per field, "k:{key}" per keyed list element,
    /// {} for a leaf (a scalar or an atomic list).</summary>
    public static JsonObject FieldSet(JsonNode? value, string? field, string? parentField)
    {
        var set = new JsonObject();
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj) set["f:" + key] = FieldSet(child, key, field);
                break;
            case JsonArray list when field is not null && StrategicMergePatch.MergeKeyFor(field, parentField) is { } mergeKey:
                foreach (var element in list.OfType<JsonObject>())
                    if (element[mergeKey] is { } keyValue)
                        set[ElementKey(mergeKey, keyValue)] = FieldSet(element, field, parentField) is var e && e.Count > 0 ? e : new JsonObject();
                break;
        }
        return set;
    }

    private static string ElementKey(string mergeKey, JsonNode keyValue) =>
        "k:" + new JsonObject { [mergeKey] = keyValue.DeepClone() }.ToJsonString();

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
        foreach (var (key, previousElement) in previous)
        {
            if (!key.StartsWith("k:")) continue;
            var identity = JsonNode.Parse(key[2..]) as JsonObject;
            if (identity is null) continue;
            var index = -1;
            for (var i = 0; i < list.Count && index < 0; i++)
                if (list[i] is JsonObject e && identity.All(kv => JsonNode.DeepEquals(e[kv.Key], kv.Value))) index = i;
            if (index < 0) continue;
            if (next[key] is not JsonObject nextElement) list.RemoveAt(index);
            else if (previousElement is JsonObject previousSet && list[index] is JsonObject element)
                RemoveStale(element, previousSet, nextElement, field, parentField);
        }
    }
}
