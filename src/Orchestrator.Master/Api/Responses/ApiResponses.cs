using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Responses;

/// <summary>Writes objects and lists as JSON, or as a Table / PartialObjectMetadata when the client asks, or as protobuf
/// for a client that takes only protobuf (<see cref="ProtobufAnswers"/>).</summary>
internal sealed class ApiResponses(TimeProvider clock)
{
    public DateTime Now => clock.GetUtcNow().UtcDateTime;

    public static async Task WriteJsonAsync(HttpContext context, int statusCode, string json, string contentType = "application/json")
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(json, context.RequestAborted);
        // kube-apiserver encodes JSON with Go's json.Encoder, which ends every document with a newline; clients compare
        // bodies byte for byte (the Python client's create_from_yaml errors carry the body as it came).
        if (contentType.StartsWith("application/json", StringComparison.Ordinal))
            await context.Response.WriteAsync("\n", context.RequestAborted);
    }

    private static readonly byte[] Newline = [(byte)'\n'];

    /// <summary>A JSON document already encoded as UTF-8, ended with a newline as the string form.</summary>
    public static async Task WriteJsonAsync(HttpContext context, int statusCode, byte[] utf8Json)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(utf8Json, context.RequestAborted);
        await context.Response.Body.WriteAsync(Newline, context.RequestAborted);
    }

    /// <summary>A v1 Status that is the answer itself (<see cref="StatusResponses.Success"/>), as JSON or protobuf.</summary>
    public static Task WriteStatusAsync(HttpContext context, int statusCode, JsonObject status) =>
        ProtobufAnswers.Wanted(context)
            ? ProtobufAnswers.WriteStatusAsync(context, statusCode, status)
            : WriteJsonAsync(context, statusCode, status);

    public static Task WriteJsonAsync(HttpContext context, int statusCode, object value) =>
        WriteJsonAsync(context, statusCode, value is JsonNode node ? ObjectJson.Write(node) : KubeObjects.Serialize(value));

    public Task WriteObjectAsync(HttpContext context, ResourceDescription resource, IKubernetesObject<V1ObjectMeta> obj,
        int statusCode = 200)
    {
        if (ProtobufAnswers.Wanted(context)) return ProtobufAnswers.WriteObjectAsync(context, statusCode, resource, obj);
        var (form, metaVersion) = ContentNegotiation.Negotiate(context.Request.Headers.Accept);
        return form switch
        {
            ResponseForm.Table => EncodedBodies.WriteTableAsync(context, statusCode, resource, [obj],
                new V1ListMeta { ResourceVersion = obj.Metadata?.ResourceVersion }, IncludeObjectOf(context), Now, metaVersion),
            ResponseForm.PartialObjectMetadata => WriteJsonAsync(context, statusCode,
                TableConverter.PartialObjectMetadata(obj, metaVersion)),
            _ => EncodedBodies.WriteObjectAsync(context, statusCode, resource, obj),
        };
    }

    /// <summary>A Scale subresource's answer: protobuf, a Table with kube's Scale columns, or JSON.</summary>
    public Task WriteScaleAsync(HttpContext context, V1Scale scale)
    {
        if (ProtobufAnswers.Wanted(context)) return ProtobufAnswers.WriteScaleAsync(context, scale);
        var (form, metaVersion) = ContentNegotiation.Negotiate(context.Request.Headers.Accept);
        return form switch
        {
            ResponseForm.Table => WriteJsonAsync(context, 200, new Table
            {
                ApiVersion = metaVersion,
                Metadata = new V1ListMeta { ResourceVersion = scale.Metadata?.ResourceVersion },
                ColumnDefinitions = ScaleTablePrinter.Instance.Columns,
                Rows =
                [
                    new TableRow
                    {
                        Cells = ScaleTablePrinter.Instance.Cells(scale, Now),
                        Object = IncludeObjectOf(context) switch
                        {
                            IncludeObject.None => null,
                            IncludeObject.Object => JsonNode.Parse(KubeObjects.Serialize(scale)),
                            _ => TableConverter.PartialObjectMetadata(scale, metaVersion),
                        },
                    },
                ],
            }),
            ResponseForm.PartialObjectMetadata => WriteJsonAsync(context, 200, TableConverter.PartialObjectMetadata(scale, metaVersion)),
            _ => ProtobufAnswers.WriteScaleAsync(context, scale),
        };
    }

    /// <param name="kept">The items are the store's list itself, unchanged until its next write (<see cref="EncodedBodies.WriteListAsync"/>).</param>
    public Task WriteListAsync(HttpContext context, ResourceDescription resource, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> items,
        V1ListMeta metadata, bool kept = false)
    {
        if (ProtobufAnswers.Wanted(context)) return ProtobufAnswers.WriteListAsync(context, resource, items, metadata);
        var (form, metaVersion) = ContentNegotiation.Negotiate(context.Request.Headers.Accept);
        switch (form)
        {
            case ResponseForm.Table:
                return EncodedBodies.WriteTableAsync(context, 200, resource, items, metadata, IncludeObjectOf(context), Now, metaVersion, kept);
            case ResponseForm.PartialObjectMetadata:
                return WriteJsonAsync(context, 200, new JsonObject
                {
                    ["kind"] = "PartialObjectMetadataList",
                    ["apiVersion"] = metaVersion,
                    ["metadata"] = JsonNode.Parse(KubeObjects.Serialize(metadata)),
                    ["items"] = new JsonArray(items.Select(i => (JsonNode)TableConverter.PartialObjectMetadata(i, metaVersion)).ToArray()),
                });
            default:
                return EncodedBodies.WriteListAsync(context, resource, items, metadata, kept);
        }
    }

    public static JsonObject ListJson(ResourceDescription resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> items, V1ListMeta metadata) =>
        new()
        {
            ["apiVersion"] = resource.GroupVersion,
            ["kind"] = resource.ListKind,
            ["metadata"] = JsonNode.Parse(KubeObjects.Serialize(metadata)),
            ["items"] = new JsonArray(items.Select(i => (JsonNode)ObjectJson.ToJson(i, resource)).ToArray()),
        };

    public static IncludeObject IncludeObjectOf(HttpContext context) =>
        TableConverter.ParseIncludeObject(context.Request.Query["includeObject"]);
}
