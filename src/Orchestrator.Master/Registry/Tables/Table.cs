using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Orchestrator.Master.Registry.Tables;

// meta.k8s.io/v1 Table: what `kubectl get` asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io) and
// prints column by column. The KubernetesClient package has no model for it, so it is written here.

internal sealed class Table
{
    [JsonPropertyName("kind")] public string Kind { get; init; } = "Table";
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; init; } = "meta.k8s.io/v1";
    [JsonPropertyName("metadata")] public V1ListMeta Metadata { get; init; } = new();
    [JsonPropertyName("columnDefinitions")] public IReadOnlyList<TableColumnDefinition> ColumnDefinitions { get; init; } = [];
    [JsonPropertyName("rows")] public IReadOnlyList<TableRow> Rows { get; init; } = [];
}

/// <summary>One column. <see cref="Priority"/> 0 is always shown, 1 only with <c>-o wide</c>.</summary>
internal sealed record TableColumnDefinition(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("priority")] int Priority)
{
    public static TableColumnDefinition NameColumn { get; } = new("Name", "string", "name",
        "Name must be unique within a namespace.", 0);

    public static TableColumnDefinition AgeColumn { get; } = new("Age", "string", "",
        "CreationTimestamp is a timestamp representing the server time when this object was created.", 0);

    public static TableColumnDefinition Text(string name, string description, int priority = 0) =>
        new(name, "string", "", description, priority);

    public static TableColumnDefinition Integer(string name, string description, int priority = 0) =>
        new(name, "integer", "", description, priority);
}

internal sealed class TableRow
{
    [JsonPropertyName("cells")] public IReadOnlyList<object> Cells { get; init; } = [];

    /// <summary>PartialObjectMetadata by default, the full object with includeObject=Object, absent with None.</summary>
    [JsonPropertyName("object")] public JsonNode? Object { get; init; }
}
