using System.Text.Json;
using System.Text.Json.Nodes;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Orchestrator.Cli.Parsing;

namespace Orchestrator.Cli.Objects;

/// <summary>One object from a manifest, as JSON, with what orchctl needs to address it.</summary>
internal sealed record Manifest(string ApiVersion, string Kind, string Name, string? Namespace, JsonObject Body, string Source);

/// <summary>
/// Reads manifests like kubectl -f: a file, every .yaml/.yml/.json file of a directory, or "-" (stdin);
/// multi-document YAML ("---"), a JSON object, a JSON array, or a List whose items are the objects.
/// </summary>
internal static class Manifests
{
    public static IReadOnlyList<Manifest> Read(IEnumerable<string> sources, TextReader stdin)
    {
        var result = new List<Manifest>();
        foreach (var source in sources)
        {
            if (source == "-")
                result.AddRange(Parse(stdin.ReadToEnd(), "stdin"));
            else if (Directory.Exists(source))
                foreach (var file in Directory.GetFiles(source).Where(f => f.EndsWith(".yaml") || f.EndsWith(".yml") || f.EndsWith(".json")).Order())
                    result.AddRange(Parse(File.ReadAllText(file), file));
            else if (File.Exists(source))
                result.AddRange(Parse(File.ReadAllText(source), source));
            else
                throw new CliException($"error: the path \"{source}\" does not exist");
        }
        return result;
    }

    public static IReadOnlyList<Manifest> Parse(string text, string source)
    {
        var trimmed = text.TrimStart();
        var nodes = new List<JsonNode>();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                nodes.AddRange(ParseJsonDocuments(trimmed));
            }
            catch (JsonException e)
            {
                throw new CliException($"error: error parsing {source}: {e.Message}");
            }
        }
        else
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (YamlException e)
            {
                throw new CliException($"error: error parsing {source}: {e.Message}");
            }
            foreach (var document in stream.Documents)
                if (ToJson(document.RootNode) is { } node) nodes.Add(node);
        }
        var result = new List<Manifest>();
        foreach (var node in nodes) Flatten(node, source, result);
        return result;
    }

    // Several JSON values one after another (kubectl accepts concatenated objects too).
    private static List<JsonNode> ParseJsonDocuments(string text)
    {
        var nodes = new List<JsonNode>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text),
            new JsonReaderOptions { AllowMultipleValues = true, CommentHandling = JsonCommentHandling.Skip });
        while (reader.Read())
            if (JsonNode.Parse(ref reader) is { } node) nodes.Add(node);
        return nodes;
    }

    private static void Flatten(JsonNode node, string source, List<Manifest> into)
    {
        if (node is JsonArray array)
        {
            foreach (var item in array) if (item is not null) Flatten(item, source, into);
            return;
        }
        if (node is not JsonObject obj) throw new CliException($"error: {source}: a manifest must be an object");
        var kind = obj["kind"]?.GetValue<string>();
        var apiVersion = obj["apiVersion"]?.GetValue<string>();
        if (kind is not null && kind.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray items)
        {
            foreach (var item in items) if (item is not null) Flatten(item.DeepClone(), source, into);
            return;
        }
        if (kind is null || apiVersion is null) throw new CliException($"error: error validating \"{source}\": apiVersion and kind must be set");
        var name = obj["metadata"]?["name"]?.GetValue<string>() ?? throw new CliException($"error: error validating \"{source}\": {kind} needs metadata.name");
        into.Add(new Manifest(apiVersion, kind, name, obj["metadata"]?["namespace"]?.GetValue<string>(), obj, source));
    }

    // YAML 1.2 core schema for plain scalars (numbers, booleans, null); quoted scalars stay strings ("80", "true").
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } s => Plain(s.Value),
        YamlScalarNode s => JsonValue.Create(s.Value ?? ""),
        _ => null,
    };

    private static JsonNode? Plain(string? text) => text switch
    {
        null or "" or "~" or "null" or "Null" or "NULL" => null,
        "true" or "True" or "TRUE" => JsonValue.Create(true),
        "false" or "False" or "FALSE" => JsonValue.Create(false),
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Any(char.IsDigit) && !text.Contains(':') => JsonValue.Create(d),
        _ => JsonValue.Create(text),
    };
}
