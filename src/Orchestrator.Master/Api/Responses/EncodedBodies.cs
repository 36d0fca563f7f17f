using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
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
        if (kept && resource.Conversion is null)
        {
            var (head, rows, tail) = KeptTable(resource, items, metadata, include, now, apiVersion);
            context.Response.StatusCode = statusCode;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = head.Length + rows.Length + tail.Length;
            await WritePartsAsync(context, [head, rows, tail]);
            return;
        }
        using var table = new SegmentedBuffer();
        WriteTable(table, resource, items, metadata, include, now, apiVersion, kept);
        table.Write(Newline);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = table.Length;
        await WritePartsAsync(context, table.Segments);
    }

    /// <summary>The Table's bytes (no trailing newline): one watch event's.</summary>
    public static byte[] TableBytes(ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        V1ListMeta metadata, IncludeObject include, DateTime now, string apiVersion)
    {
        using var table = new SegmentedBuffer();
        WriteTable(table, resource, items, metadata, include, now, apiVersion);
        return Join(table.Segments.ToList());
    }

    /// <summary>A kept list's rows, written at <see cref="From"/> for a printer, object and version; the same bytes for any now
    /// from <see cref="From"/> until <see cref="Until"/>, when one of the ages in their cells changes its text.</summary>
    private sealed record KeptRows(ITablePrinter Printer, IncludeObject Include, string ApiVersion, DateTime From, DateTime Until, byte[] Rows);

    // Keyed by the list instance, as the list's items are (EncodedObjects.Items): the store's list between two writes.
    private static readonly ConditionalWeakTable<object, KeptRows> Rows = new();

    /// <summary>The Table of a kept list in three parts (head, rows, tail with the newline). The rows are a function of the
    /// typed objects, the kept object bytes, the printer, the version and the ages in the cells (printers read now only
    /// through <see cref="HumanDuration"/>, which notes until when each age's text holds): the rows written at one now are
    /// kept and are the rows of every later now until the first of those ages changes; then they are written afresh (the
    /// cells from the typed objects, as <see cref="WriteTable"/> makes them) and kept. So the body is the one
    /// <see cref="WriteTable"/> writes, and between a list's changes and its ages' changes a Table costs no cell.</summary>
    private static (byte[] Head, byte[] Rows, byte[] Tail) KeptTable(ResourceDescription resource,
        IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, V1ListMeta metadata, IncludeObject include, DateTime now, string apiVersion)
    {
        var printer = resource.Printer;
        var head = TableHead(printer, metadata, apiVersion);
        if (!Rows.TryGetValue(items, out var kept) || !ReferenceEquals(kept.Printer, printer) || kept.Include != include ||
            !string.Equals(kept.ApiVersion, apiVersion, StringComparison.Ordinal) || now < kept.From || now >= kept.Until)
        {
            IReadOnlyList<object>[] cells;
            DateTime until;
            using (var ages = HumanDuration.Track())
            {
                cells = Cells(printer, items, now);
                until = ages.Until;
            }
            using var rows = new SegmentedBuffer();
            WriteRows(rows, resource, items, cells, include, apiVersion, kept: true);
            kept = new KeptRows(printer, include, apiVersion, now, until, Join(rows.Segments.ToList()));
            Rows.AddOrUpdate(items, kept);
        }
        return (head, kept.Rows, TableTail);
    }

    private static readonly byte[] TableTail = "]}\n"u8.ToArray();

    /// <summary>The Table as <see cref="TableConverter.ToTable"/> serialised through KubernetesJson would be: the cells
    /// written straight from the printer's values (no serialiser per row), each row's object from its kept bytes.</summary>
    private static void WriteTable(SegmentedBuffer table, ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        V1ListMeta metadata, IncludeObject include, DateTime now, string apiVersion, bool kept = false)
    {
        var printer = resource.Printer;
        table.Write(TableHead(printer, metadata, apiVersion));
        WriteRows(table, resource, items, Cells(printer, items, now), include, apiVersion, kept);
        table.Write(CloseArrayAndObject);
    }

    /// <summary>A Table's JSON up to its first row: kind, version, list metadata, the printer's columns.</summary>
    private static byte[] TableHead(ITablePrinter printer, V1ListMeta metadata, string apiVersion)
    {
        var start = apiVersion switch
        {
            "meta.k8s.io/v1" => TableStartV1,
            "meta.k8s.io/v1beta1" => TableStartV1Beta1,
            _ => TableStart(apiVersion),
        };
        var columns = Columns.GetValue(printer, p => Utf8($",\"columnDefinitions\":{KubernetesJson.Serialize(p.Columns)},\"rows\":["));
        var meta = Utf8(KubernetesJson.Serialize(metadata));
        var head = GC.AllocateUninitializedArray<byte>(start.Length + meta.Length + columns.Length);
        start.CopyTo(head, 0);
        meta.CopyTo(head, start.Length);
        columns.CopyTo(head, start.Length + meta.Length);
        return head;
    }

    private static byte[] TableStart(string apiVersion) =>
        Utf8($"{{\"kind\":\"Table\",\"apiVersion\":{KubernetesJson.Serialize(apiVersion)},\"metadata\":");

    private static readonly byte[] TableStartV1 = TableStart("meta.k8s.io/v1");
    private static readonly byte[] TableStartV1Beta1 = TableStart("meta.k8s.io/v1beta1");

    // A printer's columns never change (a custom resource's new printer is a new instance): their JSON is written once.
    private static readonly ConditionalWeakTable<ITablePrinter, byte[]> Columns = new();

    private static IReadOnlyList<object>[] Cells(ITablePrinter printer, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items, DateTime now)
    {
        var cells = new IReadOnlyList<object>[items.Count];
        for (var i = 0; i < items.Count; i++) cells[i] = printer.Cells(items[i], now);
        return cells;
    }

    /// <summary>The rows, from the first row's brace to the last one's, of the items with their <paramref name="cells"/>.</summary>
    private static void WriteRows(SegmentedBuffer table, ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        IReadOnlyList<object>[] cells, IncludeObject include, string apiVersion, bool kept)
    {
        var rowsMetadata = kept && include == IncludeObject.Metadata ? EncodedObjects.Metadata(items, resource) : null;
        var objectHead = include == IncludeObject.Metadata
            ? Utf8($",\"object\":{{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":{KubernetesJson.Serialize(apiVersion)},\"metadata\":")
            : null;
        // The serialiser's writer: its default encoder escapes strings as KubernetesJson's options do.
        using var writer = new Utf8JsonWriter(table, new JsonWriterOptions { SkipValidation = true });
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            table.Write(i > 0 ? NextRowHead : RowHead);
            writer.Reset(table);
            TableCells.Write(writer, cells[i]);
            writer.Flush();
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
    }

    private static readonly byte[] RowHead = "{\"cells\":"u8.ToArray();
    private static readonly byte[] NextRowHead = ",{\"cells\":"u8.ToArray();
    private static readonly byte[] ObjectKey = ",\"object\":"u8.ToArray();
    private static readonly byte[] CloseOne = "}"u8.ToArray();
    private static readonly byte[] CloseTwo = "}}"u8.ToArray();
    private static readonly byte[] CloseArrayAndObject = "]}"u8.ToArray();

    /// <summary>Writes a watch event's line — <c>{"type":…,"object":…}</c> and a newline, the object from its kept
    /// encoding — into <paramref name="writer"/> (a response's pipe: no copy of the line is made per watcher); returns
    /// its length.</summary>
    public static int WriteWatchEvent(IBufferWriter<byte> writer, string type, ReadOnlySpan<byte> obj)
    {
        var head = type switch
        {
            "ADDED" => AddedHead,
            "MODIFIED" => ModifiedHead,
            "DELETED" => DeletedHead,
            _ => EventHead(type),
        };
        var length = head.Length + obj.Length + EventTail.Length;
        // One GetSpan and one Advance when the line fits in what the writer has at hand: each of them takes the response's
        // lock in Kestrel's chunked writer, and this runs for every event and every watcher.
        var span = writer.GetSpan();
        if (span.Length >= length)
        {
            head.CopyTo(span);
            obj.CopyTo(span[head.Length..]);
            EventTail.CopyTo(span[(head.Length + obj.Length)..]);
            writer.Advance(length);
            return length;
        }
        writer.Write(head);
        writer.Write(obj);
        writer.Write(EventTail);
        return length;
    }

    private static readonly byte[] EventTail = "}\n"u8.ToArray();
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

    /// <summary>Writes the pieces as one body with its Content-Length.</summary>
    private static Task WriteAsync(HttpContext context, int statusCode, string contentType, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        long length = 0;
        foreach (var part in parts) length += part.Length;
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = length;
        return WritePartsAsync(context, parts);
    }

    /// <summary>Bytes of a flush: the response's pipe takes this much before it is handed on (and waited for).</summary>
    private const int FlushBytes = 1024 * 1024;

    /// <summary>The pieces into the response's pipe, flushed once per <see cref="FlushBytes"/> and at the end. Not a
    /// <c>Body.WriteAsync</c> per piece: each of those is a flush, and a flush over the pipe's 64 KiB threshold waits for
    /// TLS and the socket to take it (a hop between threads per 64 KiB of a list).</summary>
    private static async Task WritePartsAsync(HttpContext context, IEnumerable<ReadOnlyMemory<byte>> parts)
    {
        var writer = context.Response.BodyWriter;
        var ct = context.RequestAborted;
        var unflushed = 0;
        foreach (var part in parts)
        {
            writer.Write(part.Span);
            unflushed += part.Length;
            if (unflushed < FlushBytes) continue;
            await writer.FlushAsync(ct);
            unflushed = 0;
        }
        await writer.FlushAsync(ct);
    }
}
