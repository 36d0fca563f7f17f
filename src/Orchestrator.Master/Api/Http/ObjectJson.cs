using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Shared.Api;

namespace Orchestrator.Master.Api.Http;

/// <summary>API objects as JSON trees (for patching, selecting fields and writing answers), always through
/// KubernetesJson so IntOrString, quantities and times keep their wire form.</summary>
internal static class ObjectJson
{
    /// <summary>How answers are written: no HTML-style escaping (a message reads "server's", not "server\u0027s").</summary>
    public static readonly JsonSerializerOptions WriteOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(JsonNode node) => node.ToJsonString(WriteOptions);

    /// <summary>The object as a JSON tree that starts with apiVersion and kind, filled from the resource when the
    /// stored object lacks them (objects from the store are never modified).</summary>
    public static JsonObject ToJson(object obj, string apiVersion, string kind)
    {
        var parsed = JsonNode.Parse(KubeObjects.Serialize(obj))!.AsObject();
        var result = new JsonObject
        {
            ["apiVersion"] = parsed["apiVersion"]?.GetValue<string>() is { Length: > 0 } v ? v : apiVersion,
            ["kind"] = parsed["kind"]?.GetValue<string>() is { Length: > 0 } k ? k : kind,
        };
        foreach (var (key, value) in parsed.ToList())
        {
            if (key is "apiVersion" or "kind") continue;
            parsed.Remove(key);
            result[key] = value;
        }
        return result;
    }

    /// <summary>The object as the resource's version shows it: a custom object stored in another version of the same
    /// resource is shown in this one (conversion None: only apiVersion differs).</summary>
    public static JsonObject ToJson(IKubernetesObject<V1ObjectMeta> obj, ResourceDescription resource)
    {
        var json = ToJson(obj, resource.GroupVersion, resource.Kind);
        if (obj is CustomObject) json["apiVersion"] = resource.GroupVersion;
        return json;
    }

    /// <summary>Reads a JSON tree back into the resource's model; a tree that does not fit is a 400, or what
    /// <paramref name="doesNotFit"/> makes of the decoder's message (a patched object).</summary>
    public static IKubernetesObject<V1ObjectMeta> FromJson(JsonNode json, ResourceDescription resource,
        Func<string, ApiException>? doesNotFit = null)
    {
        if (JsonBody.Depth(json) > BodyLimits.MaxDepth)
            throw new ApiException(422, "Invalid",
                $"{resource.Kind} in version \"{resource.Version}\" cannot be handled as a {resource.Kind}: " +
                $"the object nests deeper than {BodyLimits.MaxDepth} levels");
        return (IKubernetesObject<V1ObjectMeta>)Deserialize(() => json.ToJsonString(), resource.ObjectType, resource.Kind, resource,
            doesNotFit);
    }

    public static object Deserialize(string json, Type type, string kindForMessage, ResourceDescription? resource = null) =>
        Deserialize(() => json, type, kindForMessage, resource);

    private static object Deserialize(Func<string> json, Type type, string kindForMessage, ResourceDescription? resource,
        Func<string, ApiException>? doesNotFit = null)
    {
        var text = "";
        try
        {
            text = json();
            return KubeObjects.Deserialize(text, type);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException
                                      or NotSupportedException or OverflowException)
        {
            var version = resource?.Version ?? "v1";
            var problem = GoJsonErrors.Describe(e, text, type);
            throw doesNotFit?.Invoke(problem) ??
                  ApiException.BadRequest($"{kindForMessage} in version \"{version}\" cannot be handled as a {kindForMessage}: {problem}");
        }
    }

    public static T Deserialize<T>(string json, string kindForMessage) =>
        (T)Deserialize(json, typeof(T), kindForMessage);

    /// <summary>A JSON tree (a parsed body, a patched Scale) as a model object, with the depth checked first.</summary>
    public static T Deserialize<T>(JsonNode json, string kindForMessage)
    {
        if (JsonBody.Depth(json) > BodyLimits.MaxDepth)
            throw ApiException.BadRequest($"{kindForMessage} in version \"v1\" cannot be handled as a {kindForMessage}: " +
                                          $"the object nests deeper than {BodyLimits.MaxDepth} levels");
        return (T)Deserialize(() => json.ToJsonString(), typeof(T), kindForMessage, null);
    }
}
