using System.Text.Json.Nodes;

namespace Orchestrator.Master.Api.Rest;

/// <summary>The simple JSON paths of scale subresources and printer columns: <c>.spec.replicas</c> — dot-separated
/// field names from the object's root (a leading dot is optional).</summary>
internal static class JsonPaths
{
    public static JsonNode? Get(JsonNode? root, string path)
    {
        var node = root;
        foreach (var part in Parts(path))
            node = node is JsonObject o ? o[part] : null;
        return node;
    }

    /// <summary>Sets the value at the path, creating the objects on the way.</summary>
    public static void Set(JsonObject root, string path, JsonNode? value)
    {
        var parts = Parts(path);
        var node = root;
        foreach (var part in parts[..^1])
        {
            if (node[part] is not JsonObject child) node[part] = child = new JsonObject();
            node = child;
        }
        node[parts[^1]] = value;
    }

    private static string[] Parts(string path) => path.TrimStart('.').Split('.');
}
