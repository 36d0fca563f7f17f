// A stand-in for the part of JsonPatch.Net (namespace Json.Patch) that kubernetes-client/csharp's E2E tests and its
// KubernetesClient.Kubectl library use: CreatePatch, the RFC 6902 difference of two JSON documents, and JsonPatch's
// serialization as an array of operations. The offline NuGet copy here serves no JsonPatch.Net, so
// tests/client-e2e/csharp/run.sh compiles this in its place. The difference is computed as JsonPatch.Net's
// PatchExtensions.CreatePatch documents it: objects member by member (remove, then add, then the common members
// compared), arrays index by index (one of them empty: replace the whole array), any other value replaced when unequal.
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Json.Patch;

/// <summary>One RFC 6902 operation: add, remove or replace (the only ones a difference needs).</summary>
public sealed record PatchOperation(string Op, string Path, JsonNode? Value);

/// <summary>A JSON Patch document: serialized as the array of its operations.</summary>
[JsonConverter(typeof(JsonPatchConverter))]
public sealed class JsonPatch
{
    public JsonPatch(IEnumerable<PatchOperation> operations) => Operations = operations.ToList();

    public IReadOnlyList<PatchOperation> Operations { get; }
}

public sealed class JsonPatchConverter : JsonConverter<JsonPatch>
{
    public override JsonPatch Read(
        ref Utf8JsonReader reader, System.Type typeToConvert, JsonSerializerOptions options) =>
        throw new JsonException("the stand-in for JsonPatch.Net only writes patches");

    public override void Write(Utf8JsonWriter writer, JsonPatch value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var operation in value.Operations)
        {
            writer.WriteStartObject();
            writer.WriteString("op", operation.Op);
            writer.WriteString("path", operation.Path);
            if (operation.Op != "remove")
            {
                writer.WritePropertyName("value");
                if (operation.Value is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    operation.Value.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}

public static class PatchExtensions
{
    /// <summary>The patch that turns original into target, both serialized with the given options.</summary>
    public static JsonPatch CreatePatch<TOriginal, TTarget>(
        this TOriginal original, TTarget target, JsonSerializerOptions? options = null) =>
        CreatePatch(
            JsonSerializer.SerializeToNode(original, options), JsonSerializer.SerializeToNode(target, options));

    public static JsonPatch CreatePatch(this JsonNode? original, JsonNode? target)
    {
        var operations = new List<PatchOperation>();
        Diff(operations, original, target, "");
        return new JsonPatch(operations);
    }

    private static void Diff(List<PatchOperation> operations, JsonNode? original, JsonNode? target, string path)
    {
        if (original is JsonObject originalObject && target is JsonObject targetObject)
        {
            var originalNames = originalObject.Select(p => p.Key).ToList();
            var targetNames = targetObject.Select(p => p.Key).ToList();
            foreach (var name in originalNames.Except(targetNames))
            {
                operations.Add(new PatchOperation("remove", Child(path, name), null));
            }

            foreach (var name in targetNames.Except(originalNames))
            {
                operations.Add(new PatchOperation("add", Child(path, name), targetObject[name]?.DeepClone()));
            }

            foreach (var name in originalNames.Intersect(targetNames))
            {
                Diff(operations, originalObject[name], targetObject[name], Child(path, name));
            }
        }
        else if (original is JsonArray originalArray && target is JsonArray targetArray)
        {
            if ((originalArray.Count == 0) != (targetArray.Count == 0))
            {
                operations.Add(new PatchOperation("replace", path, targetArray.DeepClone()));
            }
            else if (targetArray.Count >= originalArray.Count)
            {
                for (var i = 0; i < targetArray.Count; i++)
                {
                    if (i < originalArray.Count)
                    {
                        Diff(operations, originalArray[i], targetArray[i], Child(path, i.ToString()));
                    }
                    else
                    {
                        var added = targetArray[i]?.DeepClone();
                        operations.Add(new PatchOperation("add", Child(path, i.ToString()), added));
                    }
                }
            }
            else
            {
                for (var i = originalArray.Count - 1; i >= 0; i--)
                {
                    if (i >= targetArray.Count)
                    {
                        operations.Add(new PatchOperation("remove", Child(path, i.ToString()), null));
                    }
                    else
                    {
                        Diff(operations, originalArray[i], targetArray[i], Child(path, i.ToString()));
                    }
                }
            }
        }
        else if (!JsonNode.DeepEquals(original, target))
        {
            operations.Add(new PatchOperation("replace", path, target?.DeepClone()));
        }
    }

    // a JSON Pointer reference token: ~ and / escaped as RFC 6901 says
    private static string Child(string path, string token) =>
        path + "/" + token.Replace("~", "~0").Replace("/", "~1");
}
