using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Responses;

/// <summary>
/// Answers written from the objects' kept encodings (<see cref="EncodedObjects"/>): a list is its envelope with the
/// items' bytes laid in, a Table its header with one row per item (cells from the typed object, the row's object
/// from the kept bytes), a watch event the item's bytes in an event frame. The bytes are those the JSON tree of
/// <see cref="ApiResponses.ListJson"/> would write; nothing is parsed or re-serialised per request.
/// </summary>
internal static class EncodedBodies
{
    private const int ChunkBytes = 64 * 1024;
    private static readonly byte[] Newline = "\n"u8.ToArray();

    /// <summary>The list's envelope before its first item and after its last one: the tree of <see cref="ApiResponses.ListJson"/>
    /// with no items, cut at its empty array, so the fields, their order and their escaping are that tree's.</summary>
    public static (byte[] Head, byte[] Tail) ListEnvelope(ResourceDescription resource, V1ListMeta metadata)
    {
        var empty = ObjectJson.Write(new JsonObject
        {
            ["apiVersion"] = resource.GroupVersion,
            ["kind"] = resource.ListKind,
            ["metadata"] = JsonNode.Parse(KubeObjects.Serialize(metadata)),
            ["items"] = new JsonArray(),
        });
        const string emptyItems = "[]}";
        if (!empty.EndsWith(emptyItems, StringComparison.Ordinal)) throw new InvalidOperationException("unexpected list envelope");
        return (Encoding.UTF8.GetBytes(empty[..^2]), "]}\n"u8.ToArray());
    }

    /// <summary>The list as JSON, ended by a newline as Go's json.Encoder ends it. <paramref name="kept"/>: the items are a
    /// list the store keeps unchanged until its next write (see <see cref="EncodedObjects.Items"/>), so their joined bytes are
    /// kept with it and a list between writes is three writes of kept bytes.</summary>
    public static Task WriteListAsync(HttpContext context, ResourceDescription resource,
        IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, V1ListMeta metadata, bool kept = false)
    {
        var (head, tail) = ListEnvelope(resource, metadata);
        if (kept && items.Count > 0 && EncodedObjects.Items(items, resource) is { } joined)
            return WriteAsync(context, 200, "application/json", [head, joined, tail]);
        var parts = new List<ReadOnlyMemory<byte>>(items.Count * 2 + 2) { head };
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) parts.Add(Comma);
            parts.Add(EncodedObjects.Json(items[i], resource));
        }
        parts.Add(tail);
        return WriteAsync(context, 200, "application/json", parts);
    }

    private static readonly byte[] Comma = ","u8.ToArray();

    /// <summary>One object as JSON with the trailing newline.</summary>
    public static Task WriteObjectAsync(HttpContext context, int statusCode, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj) =>
        WriteAsync(context, statusCode, "application/json", [EncodedObjects.Json(obj, resource), Newline]);

    /// <summary>A meta.k8s.io Table of the items: what <see cref="TableConverter.ToTable"/> serialises, written row by row
    /// with the cells from the typed object and the row's object from its kept encoding.</summary>
    /// <param name="kept">The items are a list the store keeps unchanged (see <see cref="WriteListAsync"/>): the rows' metadata
    /// bytes are kept with it.</param>
    public static async Task WriteTableAsync(HttpContext context, int statusCode, ResourceDescription resource,
        IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, V1ListMeta metadata, IncludeObject include, DateTime now, string apiVersion,
        bool kept = false)
    {
        using var table = new SegmentedBuffer();
        WriteTable(table, resource, items, metadata, include, now, apiVersion, kept);
        table.Write(Newline);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = table.Length;
        foreach (var segment in table.Segments) await context.Response.Body.WriteAsync(segment, context.RequestAborted);
    }

    /// <summary>The Table's bytes (no trailing newline): one watch event's.</summary>
    public static byte[] TableBytes(ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        V1ListMeta metadata, IncludeObject include, DateTime now, string apiVersion)
    {
        using var table = new SegmentedBuffer();
        WriteTable(table, resource, items, metadata, include, now, apiVersion);
        return Join(table.Segments.ToList());
    }

    /// <summary>The Table as <see cref="TableConverter.ToTable"/> serialised through KubernetesJson would be: the cells
    /// written straight from the printer's values (no serialiser per row), each row's object from its kept bytes.</summary>
    private static void WriteTable(SegmentedBuffer table, ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        V1ListMeta metadata, IncludeObject include, DateTime now, string apiVersion, bool kept = false)
    {
        var rowsMetadata = kept && include == IncludeObject.Metadata ? EncodedObjects.Metadata(items, resource) : null;
        var printer = resource.Printer;
        table.Write(Utf8($"{{\"kind\":\"Table\",\"apiVersion\":{KubernetesJson.Serialize(apiVersion)},\"metadata\":{KubernetesJson.Serialize(metadata)}," +
                         $"\"columnDefinitions\":{KubernetesJson.Serialize(printer.Columns)},\"rows\":["));
        var objectHead = include == IncludeObject.Metadata
            ? Utf8($",\"object\":{{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":{KubernetesJson.Serialize(apiVersion)},\"metadata\":")
            : null;
        // The serialiser's writer: its default encoder escapes strings as KubernetesJson's options do.
        using var cells = new Utf8JsonWriter(table, new JsonWriterOptions { SkipValidation = true });
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            table.Write(i > 0 ? NextRowHead : RowHead);
            cells.Reset(table);
            TableCells.Write(cells, printer.Cells(item, now));
            cells.Flush();
            switch (include)
            {
                case IncludeObject.Metadata:
                    table.Write(objectHead!);
                    table.Write(rowsMetadata?[i] ?? EncodedObjects.Metadata(item, resource));
                    table.Write(CloseTwo);
                    break;
                case IncludeObject.Object:
                    table.Write(ObjectKey);
                    table.Write(EncodedObjects.Json(item, resource));
                    table.Write(CloseOne);
                    break;
                default:
                    table.Write(CloseOne);
                    break;
            }
        }
        table.Write(CloseArrayAndObject);
    }

    private static readonly byte[] RowHead = "{\"cells\":"u8.ToArray();
    private static readonly byte[] NextRowHead = ",{\"cells\":"u8.ToArray();
    private static readonly byte[] ObjectKey = ",\"object\":"u8.ToArray();
    private static readonly byte[] CloseOne = "}"u8.ToArray();
    private static readonly byte[] CloseTwo = "}}"u8.ToArray();
    private static readonly byte[] CloseArrayAndObject = "]}"u8.ToArray();

    /// <summary>A watch event's line: <c>{"type":…,"object":…}</c> and a newline, the object from its kept encoding.</summary>
    public static byte[] WatchEvent(string type, ReadOnlySpan<byte> obj)
    {
        var head = type switch
        {
            "ADDED" => AddedHead,
            "MODIFIED" => ModifiedHead,
            "DELETED" => DeletedHead,
            _ => EventHead(type),
        };
        var line = new byte[head.Length + obj.Length + 2];
        head.CopyTo(line, 0);
        obj.CopyTo(line.AsSpan(head.Length));
        line[^2] = (byte)'}';
        line[^1] = (byte)'\n';
        return line;
    }

    private static readonly byte[] AddedHead = EventHead("ADDED");
    private static readonly byte[] ModifiedHead = EventHead("MODIFIED");
    private static readonly byte[] DeletedHead = EventHead("DELETED");

    private static byte[] EventHead(string type) => Utf8($"{{\"type\":{KubernetesJson.Serialize(type)},\"object\":");

    public static byte[] Join(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        var total = 0;
        foreach (var part in parts) total += part.Length;
        var joined = GC.AllocateUninitializedArray<byte>(total);
        var at = 0;
        foreach (var part in parts)
        {
            part.Span.CopyTo(joined.AsSpan(at));
            at += part.Length;
        }
        return joined;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Writes the pieces as one body with its Content-Length, through a pooled buffer of a few writes.</summary>
    private static async Task WriteAsync(HttpContext context, int statusCode, string contentType, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        long length = 0;
        foreach (var part in parts) length += part.Length;
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = length;
        var body = context.Response.Body;
        var ct = context.RequestAborted;
        // A few parts (an object, a kept list's head, items and tail) go to the server's pipe as they are.
        if (parts.Count <= 3)
        {
            foreach (var part in parts) await body.WriteAsync(part, ct);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var filled = 0;
            foreach (var part in parts)
            {
                var rest = part;
                while (rest.Length > 0)
                {
                    if (filled == buffer.Length)
                    {
                        await body.WriteAsync(buffer.AsMemory(0, filled), ct);
                        filled = 0;
                    }
                    var take = Math.Min(rest.Length, buffer.Length - filled);
                    rest.Span[..take].CopyTo(buffer.AsSpan(filled));
                    filled += take;
                    rest = rest[take..];
                }
            }
            if (filled > 0) await body.WriteAsync(buffer.AsMemory(0, filled), ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
