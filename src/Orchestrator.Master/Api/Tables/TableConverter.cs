using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Api.Http;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Tables;

/// <summary>What each row carries besides its cells (the <c>includeObject</c> query parameter).</summary>
internal enum IncludeObject { None, Metadata, Object }

/// <summary>Builds server-side Tables with the printer of the resource's kind.</summary>
internal static class TableConverter
{
    private static readonly ITablePrinter Default = new DefaultTablePrinter();

    private static readonly Dictionary<Type, ITablePrinter> Printers = new()
    {
        [typeof(V1Pod)] = new PodTablePrinter(),
        [typeof(V1Node)] = new NodeTablePrinter(),
        [typeof(V1Lease)] = new LeaseTablePrinter(),
        [typeof(V1Deployment)] = new DeploymentTablePrinter(),
        [typeof(V1ReplicaSet)] = new ReplicaSetTablePrinter(),
        [typeof(V1ReplicationController)] = new ReplicationControllerTablePrinter(),
        [typeof(V1Service)] = new ServiceTablePrinter(),
        [typeof(V1Endpoints)] = new EndpointsTablePrinter(),
        [typeof(V1EndpointSlice)] = new EndpointSliceTablePrinter(),
        [typeof(Corev1Event)] = new EventTablePrinter(),
        [typeof(Eventsv1Event)] = new EventsV1TablePrinter(),
        [typeof(V1Namespace)] = new NamespaceTablePrinter(),
        [typeof(V1ConfigMap)] = new ConfigMapTablePrinter(),
        [typeof(V1Secret)] = new SecretTablePrinter(),
    };

    public static ITablePrinter PrinterFor(ApiResource resource) => Printers.GetValueOrDefault(resource.ObjectType, Default);

    public static IncludeObject ParseIncludeObject(string? value) => value switch
    {
        "None" => IncludeObject.None,
        "Object" => IncludeObject.Object,
        _ => IncludeObject.Metadata,
    };

    public static Table ToTable(ApiResource resource, IEnumerable<IKubernetesObject<V1ObjectMeta>> items, V1ListMeta metadata,
        IncludeObject include, DateTime now, string apiVersion = "meta.k8s.io/v1")
    {
        var printer = PrinterFor(resource);
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
