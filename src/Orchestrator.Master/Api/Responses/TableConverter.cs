using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.Tables;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Responses;

/// <summary>What each row carries besides its cells (the <c>includeObject</c> query parameter).</summary>
internal enum IncludeObject { None, Metadata, Object }

/// <summary>Builds server-side Tables with the printer of the resource's description.</summary>
internal static class TableConverter
{
    public static IncludeObject ParseIncludeObject(string? value) => value switch
    {
        "None" => IncludeObject.None,
        "Object" => IncludeObject.Object,
        _ => IncludeObject.Metadata,
    };

    public static Table ToTable(ResourceDescription resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> items, V1ListMeta metadata,
        IncludeObject include, DateTime now, string apiVersion = "meta.k8s.io/v1")
    {
        var printer = resource.Printer;
        return new Table
        {
            ApiVersion = apiVersion,
            Metadata = metadata,
            ColumnDefinitions = printer.Columns,
            Rows = items.Select(item => new TableRow
            {
                Cells = printer.Cells(item, now),
                Object = include switch
                {
                    IncludeObject.None => null,
                    IncludeObject.Object => ObjectJson.ToJson(item, resource),
                    _ => PartialObjectMetadata(item, apiVersion),
                },
            }).ToList(),
        };
    }

    public static JsonObject PartialObjectMetadata(IKubernetesObject<V1ObjectMeta> item, string tableApiVersion = "meta.k8s.io/v1") => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = tableApiVersion,
        ["metadata"] = JsonNode.Parse(KubeObjects.Serialize(item.Metadata ?? new V1ObjectMeta())),
    };
}
