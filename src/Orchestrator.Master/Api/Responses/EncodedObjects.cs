using System.Runtime.CompilerServices;
using System.Text;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Api.Responses;

/// <summary>
/// Each stored object's JSON as the API writes it (<see cref="ObjectJson.ToJson(IKubernetesObject{V1ObjectMeta}, ResourceDescription)"/>,
/// UTF-8), encoded once per resourceVersion and kept beside the object for as long as the object lives: a get, every
/// list that holds it and every watcher of its change write the same bytes. Objects from the store are never changed
/// in place (a write stores a new instance with a new resourceVersion), so the bytes stay true; they are checked
/// against the object's resourceVersion and the served version anyway, and encoded afresh on any mismatch.
/// </summary>
internal static class EncodedObjects
{
    private sealed class Encoded(string resourceVersion, ResourceDescription served, byte[] json)
    {
        public byte[] Json { get; } = json;

        /// <summary>The metadata alone as KubernetesJson writes it (the rows of Tables), made on first use.</summary>
        public byte[]? Metadata;

        /// <summary>The protobuf message made from <see cref="Json"/> (a list's item), and the whole protobuf answer (the
        /// message in its envelope: a get's answer, a watch event's object), each made on first use.</summary>
        public byte[]? ProtobufMessage, ProtobufObject;

        public bool Fits(string? rv, ResourceDescription resource) =>
            string.Equals(rv, resourceVersion, StringComparison.Ordinal) && Serves(served, resource);
    }

    /// <summary>The same group, version and kind (one description instance, as a rule).</summary>
    private static bool Serves(ResourceDescription kept, ResourceDescription resource) =>
        ReferenceEquals(kept, resource) ||
        (string.Equals(resource.Kind, kept.Kind, StringComparison.Ordinal) &&
         string.Equals(resource.Version, kept.Version, StringComparison.Ordinal) &&
         string.Equals(resource.Group, kept.Group, StringComparison.Ordinal));

    /// <summary>A list's items, each one's JSON, separated by commas.</summary>
    private sealed record JoinedItems(ResourceDescription Served, byte[] Json);

    // Keyed by the list instance: the store answers lists between two writes with one read-only instance.
    private static readonly ConditionalWeakTable<object, JoinedItems> Lists = new();

    /// <summary>The items' JSON joined by commas, as a list body holds them, kept for as long as the list instance lives.
    /// Only for a list that never changes (the store's); null for a converted version (its objects are made per request).</summary>
    public static byte[]? Items(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, ResourceDescription resource)
    {
        if (resource.Conversion is not null) return null;
        if (Lists.TryGetValue(items, out var kept) && Serves(kept.Served, resource)) return kept.Json;
        var parts = new ReadOnlyMemory<byte>[Math.Max(items.Count * 2 - 1, 0)];
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) parts[i * 2 - 1] = Comma;
            parts[i * 2] = Json(items[i], resource);
        }
        var joined = new JoinedItems(resource, EncodedBodies.Join(parts));
        Lists.AddOrUpdate(items, joined);
        return joined.Json;
    }

    private static readonly byte[] Comma = ","u8.ToArray();

    private sealed record ItemsMetadata(byte[][] Metadata);

    private static readonly ConditionalWeakTable<object, ItemsMetadata> ListsMetadata = new();

    /// <summary>Each item's <see cref="Metadata(IKubernetesObject{V1ObjectMeta}, ResourceDescription)"/>, in order, kept with the
    /// list instance as <see cref="Items"/> is (the rows of a Table of it); null for a converted version.</summary>
    public static byte[][]? Metadata(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, ResourceDescription resource)
    {
        if (resource.Conversion is not null) return null;
        if (ListsMetadata.TryGetValue(items, out var kept) && kept.Metadata.Length == items.Count) return kept.Metadata;
        var metadata = new byte[items.Count][];
        for (var i = 0; i < items.Count; i++) metadata[i] = Metadata(items[i], resource);
        ListsMetadata.AddOrUpdate(items, new ItemsMetadata(metadata));
        return metadata;
    }

    // Weak keys: an entry lives exactly as long as its object (the store's current version, a watch window's
    // event, a list snapshot), and takes no memory once that is collected.
    private static readonly ConditionalWeakTable<object, Encoded> Cache = new();

    /// <summary>The object's JSON as the resource's version shows it (no trailing newline).</summary>
    public static byte[] Json(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource) => Entry(obj, resource)?.Json ?? Encode(obj, resource);

    /// <summary><see cref="Json(IKubernetesObject{V1ObjectMeta}, ResourceDescription)"/>, made (when not kept yet) from
    /// <paramref name="text"/>, the object's KubernetesJson text as the store serialized it (a watched change's), as
    /// <see cref="Remember"/> does: a change's watchers then copy that text instead of serializing the object again.</summary>
    public static byte[] Json(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, byte[]? text) =>
        Entry(obj, resource, text)?.Json ?? Encode(obj, resource);

    /// <summary>The object's metadata as KubernetesJson writes it.</summary>
    public static byte[] Metadata(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource)
    {
        if (Entry(obj, resource) is not { } entry) return EncodeMetadata(obj);
        return Volatile.Read(ref entry.Metadata) ?? (entry.Metadata = EncodeMetadata(obj));
    }

    /// <summary>The object's protobuf message, made by <paramref name="fromJson"/> from its JSON (<see cref="Json"/>) once per
    /// resourceVersion and kept as the JSON is: every watcher of a protobuf watch and every list write the same bytes.</summary>
    public static byte[] ProtobufMessage(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, Func<byte[], byte[]> fromJson)
    {
        if (Entry(obj, resource) is not { } entry) return fromJson(Encode(obj, resource));
        return Volatile.Read(ref entry.ProtobufMessage) ?? (entry.ProtobufMessage = fromJson(entry.Json));
    }

    /// <summary>The object's whole protobuf answer, made by <paramref name="envelope"/> from its message
    /// (<see cref="ProtobufMessage"/>) once per resourceVersion and kept.</summary>
    public static byte[] ProtobufObject(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, Func<byte[], byte[]> fromJson,
        Func<byte[], byte[]> envelope)
    {
        if (Entry(obj, resource) is not { } entry) return envelope(fromJson(Encode(obj, resource)));
        return Volatile.Read(ref entry.ProtobufObject) ?? (entry.ProtobufObject = envelope(ProtobufMessage(obj, resource, fromJson)));
    }

    /// <summary>The kept encoding of a stored object (one with a resourceVersion), made now if there is none. Objects of
    /// a converted version are new instances on every request: nothing is kept for them.</summary>
    private static Encoded? Entry(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, byte[]? text = null)
    {
        var rv = obj.Metadata?.ResourceVersion;
        if (resource.Conversion is not null || string.IsNullOrEmpty(rv)) return null;
        if (Cache.TryGetValue(obj, out var kept) && kept.Fits(rv, resource)) return kept;
        var made = new Encoded(rv, resource, (text is null ? null : FromText(obj, resource, text)) ?? Encode(obj, resource));
        Cache.AddOrUpdate(obj, made);
        return made;
    }

    private static byte[] Encode(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource) => ObjectJson.Encode(obj, resource);

    /// <summary>Keeps the encoding of a just-written object made from <paramref name="text"/>, its KubernetesJson text (UTF-8) as the
    /// store serialized it for the journal (the store's ObjectStored.Json): the bytes
    /// <see cref="Json"/> would make, without serializing the object a second time. Nothing is kept without a text, for
    /// a converted version, or for an object already encoded.</summary>
    public static void Remember(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, byte[]? text)
    {
        var rv = obj.Metadata?.ResourceVersion;
        if (text is null || resource.Conversion is not null || string.IsNullOrEmpty(rv)) return;
        if (Cache.TryGetValue(obj, out var kept) && kept.Fits(rv, resource)) return;
        if (FromText(obj, resource, text) is not { } json) return;
        Cache.AddOrUpdate(obj, new Encoded(rv, resource, json));
    }

    private static byte[]? FromText(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource, byte[] text) =>
        ObjectJson.TryEncode(text, resource.GroupVersion, resource.Kind, obj is CustomObject);

    private static byte[] EncodeMetadata(IKubernetesObject<V1ObjectMeta> obj) =>
        Encoding.UTF8.GetBytes(KubernetesJson.Serialize(obj.Metadata ?? new V1ObjectMeta()));
}
