using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Orchestrator.Master.Store;

/// <summary>
/// <c>metadata.managedFields</c> for Update operations, as kube-apiserver's field manager keeps them: the writer
/// comes to own every field its write added or changed (FieldsV1: <c>f:name</c> per field, <c>k:{key}</c> per keyed
/// list element, <c>.</c> for a map or element that is itself set); other managers lose those fields, every manager
/// loses the fields the write removed, and a manager left with nothing is dropped. Entries are per manager,
/// operation, apiVersion and subresource. Apply entries are written by server-side apply itself.
/// </summary>
internal static class ManagedFields
{
    public const string Update = "Update", Apply = "Apply";

    // Fields whose value is a struct every object has (Go non-pointer structs): kube does not mark them with ".".
    private static readonly HashSet<string> PlainStructs = ["metadata", "spec", "status", "template", "strategy", "updateStrategy", "resources"];

    // Server-set identity and bookkeeping: never owned by a manager.
    private static readonly string[] ServerMetadata =
        ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink", "deletionTimestamp",
         "deletionGracePeriodSeconds", "name", "namespace"];

    /// <summary>The FieldsV1 set of a configuration: "f:name" per field, "k:{key}" per keyed list element,
    /// {} for a leaf (a scalar or an atomic list). Server-side apply records this for what a manager applies.</summary>
    public static JsonObject FieldSet(JsonNode? value, string? field, string? parentField)
    {
        var set = new JsonObject();
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj) set["f:" + key] = FieldSet(child, key, field);
                break;
            case JsonArray list when field is not null && ListMergeKeys.For(field, parentField) is { } mergeKey:
                foreach (var element in list.OfType<JsonObject>())
                    if (element[mergeKey] is { } keyValue)
                        set[ElementKey(mergeKey, keyValue)] = FieldSet(element, field, parentField) is var e && e.Count > 0 ? e : new JsonObject();
                break;
        }
        return set;
    }

    public static string ElementKey(string mergeKey, JsonNode keyValue) =>
        "k:" + new JsonObject { [mergeKey] = keyValue.DeepClone() }.ToJsonString();

    /// <summary>The managed fields an update by <paramref name="manager"/> leaves on <paramref name="obj"/> (whose
    /// managedFields are the baseline: the request's, or the stored object's when the request sent none);
    /// <paramref name="old"/> is null for a create.</summary>
    public static void RecordUpdate(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, string manager,
        string? subresource, DateTime now)
    {
        var next = Comparable(obj);
        var previous = old is null ? null : Comparable(old);
        var changed = Changed(previous, next, null, null) ?? new JsonObject();
        var removed = previous is null ? new JsonObject() : Removed(previous, next, null, null) ?? new JsonObject();
        if (changed.Count == 0 && removed.Count == 0 && old is not null) return;

        var entries = new List<V1ManagedFieldsEntry>();
        V1ManagedFieldsEntry? own = null;
        foreach (var entry in obj.Metadata.ManagedFields ?? [])
        {
            if (entry.Manager == manager && entry.Operation == Update && entry.ApiVersion == obj.ApiVersion &&
                (entry.Subresource ?? "") == (subresource ?? ""))
            {
                own = entry;
                entries.Add(entry);
                continue;
            }
            var set = Subtract(Subtract(FieldsOf(entry), changed), removed);
            if (set.Count == 0) continue;
            entry.FieldsV1 = ToElement(set);
            entries.Add(entry);
        }
        var ownSet = Subtract(Union(own is null ? new JsonObject() : FieldsOf(own), changed), removed);
        if (own is not null) entries.Remove(own);
        if (ownSet.Count > 0)
            entries.Add(new V1ManagedFieldsEntry
            {
                Manager = manager,
                Operation = Update,
                ApiVersion = obj.ApiVersion,
                Time = now,
                FieldsType = "FieldsV1",
                FieldsV1 = ToElement(ownSet),
                Subresource = subresource,
            });
        obj.Metadata.ManagedFields = entries.Count > 0 ? entries : null;
    }

    /// <summary>The baseline managed fields of an update: the request's when it sent some, else the stored object's;
    /// a single empty entry (<c>managedFields: [{}]</c>) clears them, as in Kubernetes.</summary>
    public static void TakeBaseline(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta> old)
    {
        var sent = obj.Metadata.ManagedFields;
        if (sent is { Count: 1 } && sent[0].Manager is null && sent[0].Operation is null && sent[0].FieldsV1 is null)
            obj.Metadata.ManagedFields = null;
        else if (sent is null || sent.Count == 0)
            obj.Metadata.ManagedFields = old.Metadata.ManagedFields?.Select(KubeClone).ToList();
    }

    private static V1ManagedFieldsEntry KubeClone(V1ManagedFieldsEntry entry) =>
        KubernetesJson.Deserialize<V1ManagedFieldsEntry>(KubernetesJson.Serialize(entry));

    /// <summary>The paths an apply or patch changed or added going from <paramref name="previous"/> to
    /// <paramref name="next"/> (JSON forms of the object), as structured-merge-diff's Comparison names Modified and
    /// Added: the fields a write takes from their other owners, or conflicts on.</summary>
    public static JsonObject ChangedBetween(JsonObject? previous, JsonObject next) =>
        Changed(previous is null ? null : Strip((JsonObject)previous.DeepClone()), Strip((JsonObject)next.DeepClone()), null, null) ?? new JsonObject();

    /// <summary>The paths <paramref name="previous"/> has and <paramref name="next"/> no longer has.</summary>
    public static JsonObject RemovedBetween(JsonObject? previous, JsonObject next) =>
        previous is null ? new JsonObject() : Removed(Strip((JsonObject)previous.DeepClone()), Strip((JsonObject)next.DeepClone()), null, null) ?? new JsonObject();

    /// <summary>The object as field management sees it: without type, identity and server bookkeeping.</summary>
    private static JsonObject Comparable(IKubernetesObject<V1ObjectMeta> obj) =>
        Strip(JsonNode.Parse(KubernetesJson.Serialize(obj)) as JsonObject ?? new JsonObject());

    private static JsonObject Strip(JsonObject json)
    {
        json.Remove("apiVersion");
        json.Remove("kind");
        if (json["metadata"] is JsonObject meta)
        {
            foreach (var field in ServerMetadata) meta.Remove(field);
            if (meta.Count == 0) json.Remove("metadata");
        }
        return json;
    }

    /// <summary>The paths of <paramref name="next"/> that are new or differ from <paramref name="previous"/>; null when
    /// none. With no previous value this is the whole set of <paramref name="next"/>, "." marks included.</summary>
    private static JsonObject? Changed(JsonNode? previous, JsonNode? next, string? field, string? parentField)
    {
        switch (next)
        {
            case JsonObject nextObject:
            {
                var previousObject = previous as JsonObject;
                var set = new JsonObject();
                if (previousObject is null && field is not null && !PlainStructs.Contains(field)) set["."] = new JsonObject();
                foreach (var (key, child) in nextObject)
                    if (Changed(previousObject?[key], child, key, field) is { } childSet) set["f:" + key] = childSet;
                return set.Count > 0 ? set : previousObject is null ? new JsonObject() : null;
            }
            case JsonArray list when field is not null && ListMergeKeys.For(field, parentField) is { } mergeKey:
            {
                var previousElements = Elements(previous as JsonArray, mergeKey);
                var set = new JsonObject();
                foreach (var element in list.OfType<JsonObject>())
                {
                    if (element[mergeKey] is not { } keyValue) continue;
                    var key = ElementKey(mergeKey, keyValue);
                    var previousElement = previousElements.GetValueOrDefault(key);
                    var elementSet = Changed(previousElement, element, field, parentField);
                    if (elementSet is null) continue;
                    if (previousElement is null && !elementSet.ContainsKey("."))
                        elementSet = Union(new JsonObject { ["."] = new JsonObject() }, elementSet);
                    set[key] = elementSet;
                }
                return set.Count > 0 ? set : previous is JsonArray ? null : new JsonObject();
            }
            default:
                return next is null || JsonNode.DeepEquals(previous, next) ? null : new JsonObject();
        }
    }

    /// <summary>The paths of <paramref name="previous"/> that <paramref name="next"/> no longer has; null when none.</summary>
    private static JsonObject? Removed(JsonNode? previous, JsonNode? next, string? field, string? parentField)
    {
        switch (previous)
        {
            case JsonObject previousObject:
            {
                if (next is not JsonObject nextObject) return Changed(null, previous, field, parentField);
                var set = new JsonObject();
                foreach (var (key, child) in previousObject)
                {
                    var gone = nextObject.TryGetPropertyValue(key, out var nextChild) && nextChild is not null
                        ? Removed(child, nextChild, key, field)
                        : Changed(null, child, key, field);
                    if (gone is not null) set["f:" + key] = gone;
                }
                return set.Count > 0 ? set : null;
            }
            case JsonArray list when field is not null && ListMergeKeys.For(field, parentField) is { } mergeKey:
            {
                if (next is not JsonArray) return Changed(null, previous, field, parentField);
                var nextElements = Elements(next as JsonArray, mergeKey);
                var set = new JsonObject();
                foreach (var element in list.OfType<JsonObject>())
                {
                    if (element[mergeKey] is not { } keyValue) continue;
                    var key = ElementKey(mergeKey, keyValue);
                    var gone = nextElements.TryGetValue(key, out var nextElement)
                        ? Removed(element, nextElement, field, parentField)
                        : Union(new JsonObject { ["."] = new JsonObject() }, Changed(null, element, field, parentField) ?? new JsonObject());
                    if (gone is not null) set[key] = gone;
                }
                return set.Count > 0 ? set : null;
            }
            default:
                return null;
        }
    }

    private static Dictionary<string, JsonObject> Elements(JsonArray? list, string mergeKey)
    {
        var elements = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var element in list?.OfType<JsonObject>() ?? [])
            if (element[mergeKey] is { } keyValue) elements.TryAdd(ElementKey(mergeKey, keyValue), element);
        return elements;
    }

    /// <summary>Both sets together.</summary>
    public static JsonObject Union(JsonObject a, JsonObject b)
    {
        var result = (JsonObject)a.DeepClone();
        foreach (var (key, child) in b)
            result[key] = result[key] is JsonObject mine && child is JsonObject theirs ? Union(mine, theirs) : child?.DeepClone();
        return result;
    }

    /// <summary><paramref name="a"/> without the paths of <paramref name="b"/>: a leaf of <paramref name="b"/> takes the
    /// whole path away, a subtree only its own parts; what is left empty goes too.</summary>
    public static JsonObject Subtract(JsonObject a, JsonObject b)
    {
        var result = new JsonObject();
        foreach (var (key, child) in a)
        {
            if (!b.TryGetPropertyValue(key, out var taken)) result[key] = child?.DeepClone();
            else if (taken is JsonObject { Count: > 0 } takenSet && child is JsonObject { Count: > 0 } mine &&
                     Subtract(mine, takenSet) is { Count: > 0 } left)
                result[key] = left;
        }
        return result;
    }

    /// <summary>The paths that are members of both sets (a member is a leaf <c>{}</c> or a node marked <c>"."</c>),
    /// as structured-merge-diff's Set.Intersection.</summary>
    public static JsonObject Intersect(JsonObject a, JsonObject b)
    {
        var result = new JsonObject();
        foreach (var (key, child) in a)
        {
            if (!b.TryGetPropertyValue(key, out var other)) continue;
            if (key == ".") { result["."] = new JsonObject(); continue; }
            if (child is not JsonObject mine || other is not JsonObject theirs) continue;
            if (mine.Count == 0 || theirs.Count == 0)
            {
                // A leaf is a member; the other side holds the same path as a member only when it is a leaf or marked ".".
                var otherSide = mine.Count == 0 ? theirs : mine;
                if (otherSide.Count == 0 || otherSide.ContainsKey(".")) result[key] = new JsonObject();
                continue;
            }
            if (Intersect(mine, theirs) is { Count: > 0 } both) result[key] = both;
        }
        return result;
    }

    /// <summary>The member paths of a set written as structured-merge-diff prints them (<c>.spec.replicas</c>,
    /// <c>.spec.containers[name="web"].image</c>, <c>.spec.ports[port=80,protocol="TCP"]</c>), in order.</summary>
    public static IReadOnlyList<string> MemberPaths(JsonObject set)
    {
        var paths = new List<string>();
        Collect(set, "");
        paths.Sort(StringComparer.Ordinal);
        return paths;

        void Collect(JsonObject node, string prefix)
        {
            foreach (var (key, child) in node)
            {
                if (key == ".") { paths.Add(prefix); continue; }
                var path = prefix + PathElement(key);
                if (child is JsonObject { Count: > 0 } children) Collect(children, path);
                else paths.Add(path);
            }
        }
    }

    private static string PathElement(string key)
    {
        if (key.StartsWith("f:")) return "." + key[2..];
        if (key.StartsWith("k:") && JsonNode.Parse(key[2..]) is JsonObject fields)
            return "[" + string.Join(",", fields.Select(f => $"{f.Key}={f.Value?.ToJsonString()}")) + "]";
        if (key.StartsWith("v:")) return $"[={key[2..]}]";
        if (key.StartsWith("i:")) return $"[{key[2..]}]";
        return key;
    }

    public static JsonObject FieldsOf(V1ManagedFieldsEntry entry) => entry.FieldsV1 switch
    {
        null => new JsonObject(),
        JsonObject set => (JsonObject)set.DeepClone(),
        var other => JsonNode.Parse(KubernetesJson.Serialize(other)) as JsonObject ?? new JsonObject(),
    };

    private static JsonElement ToElement(JsonObject set) => JsonDocument.Parse(set.ToJsonString()).RootElement.Clone();
}
