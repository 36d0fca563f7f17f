using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Shared.Hosting;

/// <summary>A process's config file: one YAML mapping of flag names (without dashes) to values. JSON is YAML too,
/// so <c>{"api-port": 6443}</c> reads the same as <c>api-port: 6443</c>. Comments and empty files are fine; nested
/// values are not (every flag takes one value).</summary>
public static class ConfigFile
{
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlagException($"cannot read the config file {path}: {e.Message}");
        }
        return Parse(text, path);
    }

    public static IReadOnlyDictionary<string, string> Parse(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new FlagException($"the config file {path} is not YAML or JSON: {e.Message} (line {e.Start.Line})");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return values;
        if (stream.Documents.Count > 1 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            throw new FlagException($"the config file {path} must be one mapping of flag names to values");
        foreach (var (key, value) in mapping.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? throw new FlagException($"the config file {path} has a key that is not a flag name (line {key.Start.Line})");
            values[name] = value is YamlScalarNode scalar
                ? scalar.Value ?? ""
                : throw new FlagException($"'{name}' in the config file {path} must be a single value (line {value.Start.Line})");
        }
        return values;
    }
}
