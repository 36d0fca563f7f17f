using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Shared.Api;

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
    /// <paramref name="old"/> is null for a create. <paramref name="json"/> and <paramref name="oldJson"/> are the two
    /// objects serialized as they are now (UTF-8), when the caller has them already (the planner compares them).</summary>
    public static void RecordUpdate(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, string manager,
        string? subresource, DateTime now, byte[]? json = null, byte[]? oldJson = null)
    {
        // A create that brings no managed fields of its own (every controller's and most clients' creates): the writer
        // owns every field, written out straight from the document.
        if (old is null && obj.Metadata.ManagedFields is null or { Count: 0 } && CreateSet(json ??= KubeObjects.SerializeToUtf8Bytes(obj)) is { } created)
        {
            obj.Metadata.ManagedFields = HasAny(created)
                ? [new V1ManagedFieldsEntry
                {
                    Manager = manager,
                    Operation = Update,
                    ApiVersion = obj.ApiVersion,
                    Time = now,
                    FieldsType = "FieldsV1",
                    FieldsV1 = created,
                    Subresource = subresource,
                }]
                : null;
            return;
        }
        RecordUpdateByDifference(obj, old, manager, subresource, now, json, oldJson);
    }

    /// <summary>The managed fields a create by <paramref name="manager"/> leaves on <paramref name="obj"/>, from
    /// <paramref name="sent"/>: the object as the request brought it, decoded and defaulted, before the kind's
    /// PrepareForCreate and mutating admission (UTF-8 JSON), as kube-apiserver's create handler runs its field manager.
    /// With <paramref name="statusIsSubresource"/> the status is a reset field, which the writer does not own.</summary>
    public static void RecordCreate(IKubernetesObject<V1ObjectMeta> obj, byte[] sent, bool statusIsSubresource, string manager,
        string? subresource, DateTime now)
    {
        if (statusIsSubresource && sent.AsSpan().IndexOf("\"status\":"u8) >= 0 && JsonNode.Parse(sent) is JsonObject root &&
            root.Remove("status"))
            sent = Encoding.UTF8.GetBytes(root.ToJsonString());
        RecordUpdate(obj, null, manager, subresource, now, sent);
    }

    /// <summary><see cref="RecordUpdate"/> without the fast path for creates: the differences between the two objects
    /// subtracted from and added to the entries (what a create's fast path is tested against).</summary>
    internal static void RecordUpdateByDifference(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta>? old, string manager,
        string? subresource, DateTime now, byte[]? json = null, byte[]? oldJson = null)
    {
        var (changed, removed) = UpdateSets(old is null ? null : oldJson ?? KubeObjects.SerializeToUtf8Bytes(old), json ?? KubeObjects.SerializeToUtf8Bytes(obj));
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
            // Most writes take nothing from the other managers (a binding, a status write): their sets stay as they are.
            if (Untouched(entry.FieldsV1, changed, removed))
            {
                entries.Add(entry);
                continue;
            }
            var set = Subtract(Subtract(FieldsOf(entry), changed), removed);
            if (set.Count == 0) continue;
            entry.FieldsV1 = ToElement(set);
            entries.Add(entry);
        }
        // Subtract(Union(own's set, changed), removed) without its copies: FieldsOf is a fresh tree, which takes the
        // changed paths in place; with no own entry the set is changed itself (used no more); nothing removed, nothing
        // to subtract. Each copy was the whole status' tree again on a node's first status write of a pod.
        var ownSet = own is null ? changed : UnionInto(FieldsOf(own), changed);
        if (removed.Count > 0) ownSet = Subtract(ownSet, removed);
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

    /// <summary>The paths an update changed or added and those it removed, from the two objects' JSON (
    /// <paramref name="previousJson"/> null for a create): as <see cref="ChangedBetween"/> and <see cref="RemovedBetween"/>
    /// of the parsed objects, computed on the documents themselves rather than on JSON trees (the store's write path
    /// runs this for every update).</summary>
    internal static (JsonObject Changed, JsonObject Removed) UpdateSets(string? previousJson, string nextJson) =>
        UpdateSets(previousJson is null ? null : Encoding.UTF8.GetBytes(previousJson), Encoding.UTF8.GetBytes(nextJson));

    /// <summary><see cref="UpdateSets(string?, string)"/> of UTF-8 text.</summary>
    internal static (JsonObject Changed, JsonObject Removed) UpdateSets(byte[]? previousJson, byte[] nextJson)
    {
        using var nextDocument = JsonDocument.Parse(nextJson);
        using var previousDocument = previousJson is null ? null : JsonDocument.Parse(previousJson);
        JsonElement? next = Present(nextDocument.RootElement), previous = previousDocument is null ? null : Present(previousDocument.RootElement);
        // The root of a document that is no object: as Comparable makes it, an empty object.
        if (next is not { ValueKind: JsonValueKind.Object }) next = EmptyObject;
        if (previousDocument is not null && previous is not { ValueKind: JsonValueKind.Object }) previous = EmptyObject;
        var changed = ChangedIn(previous, next, null, null, Scope.Root) ?? new JsonObject();
        var removed = previous is null ? new JsonObject() : RemovedIn(previous, next, null, null, Scope.Root) ?? new JsonObject();
        return (changed, removed);
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private static readonly JsonDocumentOptions NoDuplicateProperties = new() { AllowDuplicateProperties = false };

    /// <summary>The FieldsV1 a create records for its writer: <c>ChangedIn(null, the object)</c> of
    /// <see cref="UpdateSets"/> as <see cref="ToElement"/> encodes it, written straight from the document instead of
    /// through a <see cref="JsonObject"/> set (copied by Union and Subtract, then encoded and parsed again). Null when
    /// the document names a property or a keyed list's key twice: a set merges those, so the general path decides.</summary>
    internal static JsonElement? CreateSet(string json) => CreateSet(Encoding.UTF8.GetBytes(json));

    /// <summary><see cref="CreateSet(string)"/> of UTF-8 text.</summary>
    internal static JsonElement? CreateSet(byte[] json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, NoDuplicateProperties);
        }
        catch (JsonException)
        {
            return null; // a name twice (the serializer writes none): the general path merges them as a JSON tree does
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return EmptyObject;
            var buffer = new ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                if (!WriteAddedProperties(writer, root, null, Scope.Root)) return null;
                writer.WriteEndObject();
            }
            // parsed where it was written (pooled metadata), then copied to its exact size, as ToElement's Clone does
            using var set = JsonDocument.Parse(buffer.WrittenMemory);
            return set.RootElement.Clone();
        }
    }

    /// <summary>The "f:" members of <c>ChangedIn(null, obj, field, …)</c> for an object: each visible, non-null
    /// property's set, in document order.</summary>
    private static bool WriteAddedProperties(Utf8JsonWriter writer, JsonElement obj, string? field, Scope scope)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (Hidden(scope, property) || property.Value.ValueKind == JsonValueKind.Null) continue;
            var key = property.Name;
            writer.WritePropertyName("f:" + key);
            if (!WriteAdded(writer, property.Value, key, field, ChildScope(scope, key))) return false;
        }
        return true;
    }

    /// <summary><c>ChangedIn(null, value, field, parentField, scope)</c> of a present value, written; false when a keyed
    /// list holds one key twice.</summary>
    private static bool WriteAdded(Utf8JsonWriter writer, JsonElement value, string field, string? parentField, Scope scope)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                if (!PlainStructs.Contains(field)) WriteLeaf(writer, ".");
                if (!WriteAddedProperties(writer, value, field, scope)) return false;
                writer.WriteEndObject();
                return true;
            case JsonValueKind.Array when ListMergeKeys.For(field, parentField) is { } mergeKey:
            {
                writer.WriteStartObject();
                HashSet<string>? keys = null;
                foreach (var element in value.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.Object || Child(element, Scope.Inner, mergeKey) is not { } keyValue) continue;
                    var key = ElementKey(mergeKey, keyValue);
                    if (!(keys ??= new HashSet<string>(StringComparer.Ordinal)).Add(key)) return false;
                    // a new element is marked "." first (ChangedIn's own mark, or the one UpdateSets' caller unites it with)
                    writer.WritePropertyName(key);
                    writer.WriteStartObject();
                    WriteLeaf(writer, ".");
                    if (!WriteAddedProperties(writer, element, field, Scope.Inner)) return false;
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
                return true;
            }
            default:
                writer.WriteStartObject();
                writer.WriteEndObject();
                return true;
        }
    }

    private static void WriteLeaf(Utf8JsonWriter writer, string name)
    {
        writer.WritePropertyName(name);
        writer.WriteStartObject();
        writer.WriteEndObject();
    }

    /// <summary>Where in the object a JSON object is, for what <see cref="Strip"/> leaves out of it.</summary>
    private enum Scope { Root, Metadata, Inner }

    private static JsonElement? Present(JsonElement element) => element.ValueKind == JsonValueKind.Null ? null : element;

    private static Scope ChildScope(Scope scope, string key) => scope == Scope.Root && key == "metadata" ? Scope.Metadata : Scope.Inner;

    /// <summary>Whether <see cref="Strip"/> takes the property away: type and server metadata, and metadata left empty.</summary>
    private static bool Hidden(Scope scope, JsonProperty property) => scope switch
    {
        Scope.Root => property.NameEquals("apiVersion") || property.NameEquals("kind") ||
                      (property.NameEquals("metadata") && property.Value.ValueKind == JsonValueKind.Object && !HasVisible(property.Value, Scope.Metadata)),
        Scope.Metadata => IsServerMetadata(property),
        _ => false,
    };

    private static bool IsServerMetadata(JsonProperty property)
    {
        foreach (var field in ServerMetadata)
            if (property.NameEquals(field)) return true;
        return false;
    }

    private static bool HasVisible(JsonElement obj, Scope scope)
    {
        foreach (var property in obj.EnumerateObject())
            if (!Hidden(scope, property)) return true;
        return false;
    }

    /// <summary>The value of <paramref name="key"/> in a JSON object as Strip leaves it; null when absent or JSON null.</summary>
    private static JsonElement? Child(JsonElement obj, Scope scope, string key)
    {
        JsonElement? found = null;
        // the last of duplicate names, as a JSON tree keeps it
        foreach (var property in obj.EnumerateObject())
            if (property.NameEquals(key))
            {
                if (Hidden(scope, property)) return null;
                found = property.Value;
            }
        return found is { } value ? Present(value) : null;
    }

    /// <summary><see cref="Changed"/> on documents.</summary>
    private static JsonObject? ChangedIn(JsonElement? previous, JsonElement? next, string? field, string? parentField, Scope scope)
    {
        if (next is not { } nextValue) return null;
        if (previous is { } same && scope == Scope.Inner && Unchanged(same, nextValue, field, parentField)) return null;
        switch (nextValue.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var previousObject = previous is { ValueKind: JsonValueKind.Object } p ? p : (JsonElement?)null;
                var set = new JsonObject();
                if (previousObject is null && field is not null && !PlainStructs.Contains(field)) set["."] = new JsonObject();
                foreach (var property in nextValue.EnumerateObject())
                {
                    if (Hidden(scope, property)) continue;
                    var key = property.Name;
                    var previousChild = previousObject is { } po ? Child(po, scope, key) : null;
                    if (ChangedIn(previousChild, Present(property.Value), key, field, ChildScope(scope, key)) is { } childSet) set["f:" + key] = childSet;
                }
                return set.Count > 0 ? set : previousObject is null ? new JsonObject() : null;
            }
            case JsonValueKind.Array when field is not null && ListMergeKeys.For(field, parentField) is { } mergeKey:
            {
                var previousList = previous is { ValueKind: JsonValueKind.Array } pl ? pl : (JsonElement?)null;
                var previousElements = ElementsOf(previousList, mergeKey);
                var set = new JsonObject();
                foreach (var element in nextValue.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.Object || Child(element, Scope.Inner, mergeKey) is not { } keyValue) continue;
                    var key = ElementKey(mergeKey, keyValue);
                    JsonElement? previousElement = previousElements.TryGetValue(key, out var pe) ? pe : null;
                    var elementSet = ChangedIn(previousElement, element, field, parentField, Scope.Inner);
                    if (elementSet is null) continue;
                    if (previousElement is null && !elementSet.ContainsKey("."))
                        elementSet = Union(new JsonObject { ["."] = new JsonObject() }, elementSet);
                    set[key] = elementSet;
                }
                return set.Count > 0 ? set : previousList is not null ? null : new JsonObject();
            }
            default:
                return previous is { } previousValue && SameValue(previousValue, nextValue) ? null : new JsonObject();
        }
    }

    /// <summary><see cref="Removed"/> on documents.</summary>
    private static JsonObject? RemovedIn(JsonElement? previous, JsonElement? next, string? field, string? parentField, Scope scope)
    {
        if (previous is not { } previousValue) return null;
        if (next is { } same && scope == Scope.Inner && Unchanged(previousValue, same, field, parentField)) return null;
        switch (previousValue.ValueKind)
        {
            case JsonValueKind.Object:
            {
                if (next is not { ValueKind: JsonValueKind.Object } nextObject) return ChangedIn(null, previousValue, field, parentField, scope);
                var set = new JsonObject();
                foreach (var property in previousValue.EnumerateObject())
                {
                    if (Hidden(scope, property)) continue;
                    var key = property.Name;
                    var childScope = ChildScope(scope, key);
                    var child = Present(property.Value);
                    var gone = Child(nextObject, scope, key) is { } nextChild
                        ? RemovedIn(child, nextChild, key, field, childScope)
                        : ChangedIn(null, child, key, field, childScope);
                    if (gone is not null) set["f:" + key] = gone;
                }
                return set.Count > 0 ? set : null;
            }
            case JsonValueKind.Array when field is not null && ListMergeKeys.For(field, parentField) is { } mergeKey:
            {
                if (next is not { ValueKind: JsonValueKind.Array } nextList) return ChangedIn(null, previousValue, field, parentField, scope);
                var nextElements = ElementsOf(nextList, mergeKey);
                var set = new JsonObject();
                foreach (var element in previousValue.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.Object || Child(element, Scope.Inner, mergeKey) is not { } keyValue) continue;
                    var key = ElementKey(mergeKey, keyValue);
                    var gone = nextElements.TryGetValue(key, out var nextElement)
                        ? RemovedIn(element, nextElement, field, parentField, Scope.Inner)
                        : Union(new JsonObject { ["."] = new JsonObject() }, ChangedIn(null, element, field, parentField, Scope.Inner) ?? new JsonObject());
                    if (gone is not null) set[key] = gone;
                }
                return set.Count > 0 ? set : null;
            }
            default:
                return null;
        }
    }

    private static Dictionary<string, JsonElement> ElementsOf(JsonElement? list, string mergeKey)
    {
        var elements = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (list is not { } items) return elements;
        foreach (var element in items.EnumerateArray())
            if (element.ValueKind == JsonValueKind.Object && Child(element, Scope.Inner, mergeKey) is { } keyValue)
                elements.TryAdd(ElementKey(mergeKey, keyValue), element);
        return elements;
    }

    /// <summary>As <see cref="JsonNode.DeepEquals"/> of the two parsed: the same text is the same value; else compared
    /// as values (numbers, escapes, the order of an object's properties).</summary>
    private static bool SameValue(JsonElement a, JsonElement b) =>
        JsonMarshal.GetRawUtf8Value(a).SequenceEqual(JsonMarshal.GetRawUtf8Value(b)) || JsonElement.DeepEquals(a, b);

    /// <summary>True when an object or list is the same text before and after and no keyed list in it has two elements
    /// under one key: then nothing in it changed and nothing was removed (most of a binding's or a status write's pod),
    /// and the walk through it is left out. With a key twice the walk decides (it compares the later one with the first).</summary>
    private static bool Unchanged(JsonElement previous, JsonElement next, string? field, string? parentField) =>
        next.ValueKind is JsonValueKind.Object or JsonValueKind.Array &&
        JsonMarshal.GetRawUtf8Value(previous).SequenceEqual(JsonMarshal.GetRawUtf8Value(next)) &&
        !MayRepeatKeys(next, field, parentField);

    private static bool MayRepeatKeys(JsonElement value, string? field, string? parentField)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                    if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array &&
                        MayRepeatKeys(property.Value, property.Name, field))
                        return true;
                return false;
            case JsonValueKind.Array when field is not null && ListMergeKeys.For(field, parentField) is { } mergeKey:
            {
                var index = 0;
                foreach (var element in value.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.Object) { index++; continue; }
                    if (MayRepeatKeys(element, field, parentField)) return true;
                    if (Child(element, Scope.Inner, mergeKey) is { } key)
                    {
                        var earlier = 0;
                        foreach (var other in value.EnumerateArray())
                        {
                            if (earlier++ == index) break;
                            if (other.ValueKind == JsonValueKind.Object && Child(other, Scope.Inner, mergeKey) is { } otherKey && MaySameKey(key, otherKey))
                                return true;
                        }
                    }
                    index++;
                }
                return false;
            }
            default:
                // an atomic list is compared as a whole, whatever it holds
                return false;
        }
    }

    /// <summary>Whether two key values may name one element (give one <see cref="ElementKey(string, JsonElement)"/>):
    /// strings by their value, numbers by their text, anything else taken as possibly the same.</summary>
    private static bool MaySameKey(JsonElement a, JsonElement b) => (a.ValueKind, b.ValueKind) switch
    {
        (JsonValueKind.String, JsonValueKind.String) => a.GetString() == b.GetString(),
        (JsonValueKind.Number, JsonValueKind.Number) or (JsonValueKind.True or JsonValueKind.False, JsonValueKind.True or JsonValueKind.False) =>
            JsonMarshal.GetRawUtf8Value(a).SequenceEqual(JsonMarshal.GetRawUtf8Value(b)),
        (JsonValueKind.Object or JsonValueKind.Array, _) or (_, JsonValueKind.Object or JsonValueKind.Array) => true,
        _ => false,
    };

    /// <summary><see cref="ElementKey(string, JsonNode)"/> of a document's value: written the same way.</summary>
    private static string ElementKey(string mergeKey, JsonElement keyValue)
    {
        // The common keys (names, types, paths, ports) are written as they are: no character the writer escapes.
        if (keyValue.ValueKind == JsonValueKind.Number) return $"k:{{\"{mergeKey}\":{keyValue.GetRawText()}}}";
        if (keyValue.ValueKind == JsonValueKind.String && keyValue.GetString() is { } text && Plain(text))
            return $"k:{{\"{mergeKey}\":\"{text}\"}}";
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName(mergeKey);
            keyValue.WriteTo(writer);
            writer.WriteEndObject();
        }
        return "k:" + Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool Plain(string text)
    {
        foreach (var c in text)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_' or '/' or ':')) return false;
        return true;
    }

    /// <summary>True when subtracting <paramref name="changed"/> and <paramref name="removed"/> from a manager's
    /// FieldsV1 would give the same set back (<see cref="Subtract"/> takes nothing from it), so the entry is kept as it
    /// is. An empty or unreadable set is not (the full path drops it).</summary>
    private static bool Untouched(object? fieldsV1, JsonObject changed, JsonObject removed) => fieldsV1 switch
    {
        JsonElement { ValueKind: JsonValueKind.Object } set => HasAny(set) && !Takes(set, changed) && !Takes(set, removed),
        _ => false,
    };

    private static bool HasAny(JsonElement obj)
    {
        using var properties = obj.EnumerateObject();
        return properties.MoveNext();
    }

    /// <summary>Whether <see cref="Subtract"/>(<paramref name="set"/>, <paramref name="taken"/>) differs from the set.
    /// A set with a name twice is treated as taken from: the full path decides what becomes of it.</summary>
    private static bool Takes(JsonElement set, JsonObject taken)
    {
        if (taken.Count == 0) return false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in set.EnumerateObject())
        {
            if (!seen.Add(property.Name)) return true;
            if (!taken.TryGetPropertyValue(property.Name, out var takenChild)) continue;
            if (takenChild is not JsonObject { Count: > 0 } takenSet) return true;
            if (property.Value.ValueKind != JsonValueKind.Object || !HasAny(property.Value)) return true;
            if (Takes(property.Value, takenSet)) return true;
        }
        return false;
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

    /// <summary><see cref="Union"/> written into <paramref name="a"/> (which the caller owns): the same set, in the same
    /// order, without copying <paramref name="a"/>.</summary>
    internal static JsonObject UnionInto(JsonObject a, JsonObject b)
    {
        foreach (var (key, child) in b)
        {
            if (a[key] is JsonObject mine && child is JsonObject theirs) UnionInto(mine, theirs);
            else a[key] = child?.DeepClone();
        }
        return a;
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

    /// <summary>The set as the element an entry keeps: written as UTF-8 and parsed where it was written (the text
    /// <see cref="JsonNode.ToJsonString"/> gives, without the UTF-16 string), then copied to its exact size.</summary>
    private static JsonElement ToElement(JsonObject set)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer)) set.WriteTo(writer);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
