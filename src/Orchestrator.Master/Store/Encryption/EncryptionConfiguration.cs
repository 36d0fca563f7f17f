using YamlDotNet.RepresentationModel;

namespace Orchestrator.Master.Store.Encryption;

/// <summary>
/// kube-apiserver's <c>--encryption-provider-config</c> file (apiVersion apiserver.config.k8s.io/v1, kind
/// EncryptionConfiguration): rules naming resources ("secrets", "deployments.apps", "*.apps", "*.", "*.*") and the
/// providers for them, in order. The first provider writes; every provider is tried when reading. Supported:
/// <c>aesgcm</c> (keys of 16, 24 or 32 bytes, base64) and <c>identity</c>; aescbc, secretbox and kms are refused.
/// </summary>
public sealed record EncryptionConfiguration(IReadOnlyList<EncryptionRule> Rules)
{
    public static EncryptionConfiguration None { get; } = new([]);

    /// <summary>Reads and validates the file; <see cref="FormatException"/> names what is wrong.</summary>
    public static EncryptionConfiguration Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"encryption provider config {path}: {e.Message}");
        }
        try
        {
            return Parse(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"encryption provider config {path}: {e.Message}");
        }
    }

    public static EncryptionConfiguration Parse(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"not YAML: {e.Message}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new FormatException("expected one YAML document with a mapping");
        Only(root, "", "apiVersion", "kind", "resources");
        if (Scalar(root, "apiVersion", "") != "apiserver.config.k8s.io/v1")
            throw new FormatException("apiVersion must be apiserver.config.k8s.io/v1");
        if (Scalar(root, "kind", "") != "EncryptionConfiguration")
            throw new FormatException("kind must be EncryptionConfiguration");
        var rules = Sequence(root, "resources", "").Select((node, i) => Rule(node, $"resources[{i}]")).ToList();
        if (rules.Count == 0) throw new FormatException("resources: at least one entry is required");
        return new EncryptionConfiguration(rules);
    }

    private static EncryptionRule Rule(YamlNode node, string path)
    {
        if (node is not YamlMappingNode map) throw new FormatException($"{path}: expected a mapping");
        Only(map, path, "resources", "providers");
        var resources = Sequence(map, "resources", path).Select((r, i) => r is YamlScalarNode { Value: { Length: > 0 } v }
            ? ResourcePattern(v, $"{path}.resources[{i}]")
            : throw new FormatException($"{path}.resources[{i}]: expected a resource name")).ToList();
        if (resources.Count == 0) throw new FormatException($"{path}.resources: at least one resource is required");
        var providers = Sequence(map, "providers", path).Select((p, i) => Provider(p, $"{path}.providers[{i}]")).ToList();
        if (providers.Count == 0) throw new FormatException($"{path}.providers: at least one provider is required");
        return new EncryptionRule(resources, providers);
    }

    private static string ResourcePattern(string value, string path)
    {
        if (value != value.ToLowerInvariant()) throw new FormatException($"{path}: resource names are lower case: \"{value}\"");
        if (value.Contains('*') && !(value == "*.*" || (value.StartsWith("*.", StringComparison.Ordinal) && !value[2..].Contains('*'))))
            throw new FormatException($"{path}: \"{value}\": a wildcard must be \"*.*\", \"*.\" (the core group) or \"*.<group>\"");
        return value;
    }

    private static IValueProvider Provider(YamlNode node, string path)
    {
        if (node is not YamlMappingNode map || map.Children.Count != 1)
            throw new FormatException($"{path}: expected exactly one provider (aesgcm or identity)");
        var (key, value) = map.Children.First();
        var name = ((YamlScalarNode)key).Value ?? "";
        switch (name)
        {
            case "identity":
                if (value is YamlMappingNode { Children.Count: > 0 }) throw new FormatException($"{path}.identity: takes no fields");
                return IdentityProvider.Instance;
            case "aesgcm":
                if (value is not YamlMappingNode gcm) throw new FormatException($"{path}.aesgcm: expected a mapping with keys");
                Only(gcm, path + ".aesgcm", "keys");
                var keys = Sequence(gcm, "keys", path + ".aesgcm").Select((k, i) => Key(k, $"{path}.aesgcm.keys[{i}]")).ToList();
                if (keys.Count == 0) throw new FormatException($"{path}.aesgcm.keys: at least one key is required");
                var duplicate = keys.GroupBy(k => k.Name).FirstOrDefault(g => g.Count() > 1);
                if (duplicate is not null) throw new FormatException($"{path}.aesgcm.keys: duplicate key name \"{duplicate.Key}\"");
                return new AesGcmProvider(keys);
            case "aescbc" or "secretbox" or "kms":
                throw new FormatException($"{path}: provider \"{name}\" is not supported by this API server (use aesgcm or identity)");
            default:
                throw new FormatException($"{path}: unknown provider \"{name}\"");
        }
    }

    private static AesGcmKey Key(YamlNode node, string path)
    {
        if (node is not YamlMappingNode map) throw new FormatException($"{path}: expected name and secret");
        Only(map, path, "name", "secret");
        var name = Scalar(map, "name", path);
        if (name.Length == 0 || name.Contains(':')) throw new FormatException($"{path}.name: a non-empty name without ':' is required");
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(Scalar(map, "secret", path));
        }
        catch (FormatException)
        {
            throw new FormatException($"{path}.secret: not base64");
        }
        if (secret.Length is not (16 or 24 or 32))
            throw new FormatException($"{path}.secret: an aesgcm key is 16, 24 or 32 bytes, this one is {secret.Length}");
        return new AesGcmKey(name, secret);
    }

    private static void Only(YamlMappingNode map, string path, params string[] fields)
    {
        foreach (var key in map.Children.Keys)
            if (key is not YamlScalarNode { Value: { } k } || !fields.Contains(k))
                throw new FormatException($"{Join(path, key.ToString())}: unknown field");
    }

    private static string Scalar(YamlMappingNode map, string field, string path) =>
        map.Children.TryGetValue(new YamlScalarNode(field), out var node) && node is YamlScalarNode { Value: { } value }
            ? value
            : throw new FormatException($"{Join(path, field)}: required");

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode map, string field, string path) =>
        map.Children.TryGetValue(new YamlScalarNode(field), out var node) && node is YamlSequenceNode seq
            ? seq.Children
            : throw new FormatException($"{Join(path, field)}: a list is required");

    private static string Join(string path, string field) => path.Length == 0 ? field : $"{path}.{field}";
}

/// <summary>One entry of <c>resources</c>: the resources it covers and their providers, the writing one first.</summary>
public sealed record EncryptionRule(IReadOnlyList<string> Resources, IReadOnlyList<IValueProvider> Providers)
{
    /// <summary>Kubernetes' matching: "secrets" (core), "deployments.apps", "*.apps", "*." (every core resource), "*.*".</summary>
    public bool Covers(string group, string resource) => Resources.Any(pattern =>
        pattern == "*.*" ||
        pattern == (group.Length == 0 ? resource : $"{resource}.{group}") ||
        pattern == $"*.{group}");
}
