using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.Catalog;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>A custom resource's unknown fields: those pruning would drop (what fieldValidation=Strict refuses and
/// Warn warns about; the object is stored pruned either way).</summary>
internal sealed class SchemaFieldValidator(IReadOnlyList<CustomResourceVersion> versions) : IFieldValidator
{
    public IReadOnlyList<string> UnknownFields(JsonObject body)
    {
        var apiVersion = body["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
        var schema = (versions.FirstOrDefault(x => x.ApiVersion == apiVersion) ?? versions[0]).Schema;
        return SchemaPruning.Prune(body.DeepClone(), schema, isResourceRoot: true);
    }
}
