using System.Text.Json.Nodes;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// Kubernetes' pruning of custom objects: every field the structural schema does not specify is dropped, except
/// under <c>x-kubernetes-preserve-unknown-fields</c> (whose specified fields are still pruned inside) and the
/// apiVersion, kind and metadata of the object and of embedded resources. Returns the dropped fields' paths
/// (what <c>fieldValidation=Strict</c> reports as unknown).
/// </summary>
internal static class SchemaPruning
{
    private static readonly HashSet<string> MetaFields = ["apiVersion", "kind", "metadata"];

    public static IReadOnlyList<string> Prune(JsonNode? value, SchemaNode schema, bool isResourceRoot)
    {
        var pruned = new List<string>();
        Prune(value, schema, isResourceRoot, "", pruned);
        return pruned;
    }

    private static void Prune(JsonNode? value, SchemaNode? schema, bool resource, string path, List<string> pruned)
    {
        if (schema is { PreserveUnknownFields: true })
        {
            SkipPrune(value, schema, resource, path, pruned);
            return;
        }
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if ((resource || schema?.EmbeddedResource == true) && MetaFields.Contains(key)) continue;
                    var at = FieldPath.Child(path, key);
                    if (schema?.Properties.GetValueOrDefault(key) is { } property) Prune(child, property, property.EmbeddedResource, at, pruned);
                    else if (schema?.AdditionalProperties is { } additional) Prune(child, additional, additional.EmbeddedResource, at, pruned);
                    else if (schema?.AdditionalPropertiesAllowed == true) continue;
                    else
                    {
                        pruned.Add(at);
                        obj.Remove(key);
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                    Prune(array[i], schema?.Items, schema?.Items?.EmbeddedResource == true, FieldPath.Index(path, i), pruned);
                break;
        }
    }

    /// <summary>Under preserve-unknown-fields: unknown fields stay, specified ones are pruned by their schemas.</summary>
    private static void SkipPrune(JsonNode? value, SchemaNode schema, bool resource, string path, List<string> pruned)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if ((resource || schema.EmbeddedResource) && MetaFields.Contains(key)) continue;
                    if (schema.Member(key) is { } member) Prune(child, member, member.EmbeddedResource, FieldPath.Child(path, key), pruned);
                }
                break;
            case JsonArray array when schema.Items is { } items:
                for (var i = 0; i < array.Count; i++) Prune(array[i], items, items.EmbeddedResource, FieldPath.Index(path, i), pruned);
                break;
        }
    }
}
