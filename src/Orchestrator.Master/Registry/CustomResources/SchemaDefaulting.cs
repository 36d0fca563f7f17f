using System.Text.Json.Nodes;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// Kubernetes' defaulting of custom objects: a field missing where its schema has a default gets a copy of the
/// default (and null where the schema is not nullable counts as missing — without a default it is dropped), then
/// defaulting goes on into every object, map value and list item.
/// </summary>
internal static class SchemaDefaulting
{
    public static void Apply(JsonNode? value, SchemaNode schema)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, property) in schema.Properties)
                {
                    var present = obj.TryGetPropertyValue(key, out var child);
                    if (present && child is null && !property.Nullable)
                    {
                        obj.Remove(key);
                        present = false;
                    }
                    if (!present && property.Default is { } defaultValue) obj[key] = defaultValue.DeepClone();
                }
                foreach (var (key, child) in obj.ToList())
                {
                    var member = schema.Member(key);
                    if (member is null) continue;
                    if (child is null && !member.Nullable && !schema.Properties.ContainsKey(key))
                    {
                        obj.Remove(key);
                        continue;
                    }
                    Apply(child, member);
                }
                break;
            case JsonArray array when schema.Items is { } items:
                foreach (var item in array) Apply(item, items);
                break;
        }
    }
}
