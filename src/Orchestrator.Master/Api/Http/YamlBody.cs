using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// Reads a YAML body (the first document, as sigs.k8s.io/yaml does) into a JSON tree from YamlDotNet's event
/// stream, without recursion and within bounds: nesting deeper than <see cref="BodyLimits.MaxDepth"/> is refused, and
/// so is a document whose aliases expand to most of it, by go-yaml's rule (kube-apiserver's YAML decoder): more than
/// 100 alias-made nodes among more than 1,000 whose share passes 99% (up to 400,000 nodes) falling to 10% (at
/// 4,000,000). Plain scalars resolve as YAML 1.1 does in go-yaml v2 (yes/no/on/off are booleans, 0x1F and 017
/// integers); merge keys (<c>&lt;&lt;</c>) merge; duplicate keys keep the last value and are reported.
/// </summary>
internal static class YamlBody
{
    private const string TagPrefix = "tag:yaml.org,2002:";

    public static ParsedBody Parse(ReadOnlySpan<byte> body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        try
        {
            return new Builder(new Parser(new StringReader(text))).Build();
        }
        catch (YamlException e)
        {
            throw new MalformedBodyException($"yaml: {FirstLine(e.Message)}{Where(e)}");
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    private static string Where(YamlException e) => e.Start.Line > 0 ? $" (line {e.Start.Line}, column {e.Start.Column})" : "";

    /// <summary>A collection being built.</summary>
    private sealed class Frame(JsonNode node, string path, string? anchor, long countAtStart)
    {
        public JsonNode Node { get; } = node;
        public string Path { get; } = path;
        public string? Anchor { get; } = anchor;
        public long CountAtStart { get; } = countAtStart;
        public string? PendingKey { get; set; }
        public bool ExpectingKey { get; set; } = true;
        public List<JsonNode?> Merges { get; } = [];
        public bool PendingIsMerge { get; set; }
        public int Index { get; set; }
    }

    private sealed record Anchored(JsonNode? Node, long Count, string? KeyText);

    private sealed class Builder(IParser parser)
    {
        private readonly Stack<Frame> _frames = new();
        private readonly Dictionary<string, Anchored> _anchors = new(StringComparer.Ordinal);
        private readonly HashSet<string> _open = new(StringComparer.Ordinal);
        private readonly List<string> _duplicates = [];
        private long _decoded, _aliased;
        private JsonNode? _root;
        private bool _done;

        public ParsedBody Build()
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _)) return new ParsedBody(null, []);
            parser.Consume<DocumentStart>();
            while (!_done)
            {
                var e = parser.Consume<ParsingEvent>();
                switch (e)
                {
                    case Scalar scalar:
                        Count(1, alias: false);
                        var (value, keyText) = Resolve(scalar);
                        if (!scalar.Anchor.IsEmpty) _anchors[scalar.Anchor.Value] = new Anchored(value, 1, keyText);
                        Add(value, keyText, isMergeKey: IsMergeKey(scalar));
                        break;
                    case AnchorAlias alias:
                        Expand(alias);
                        break;
                    case MappingStart start:
                        Open(new JsonObject(), start.Anchor);
                        break;
                    case SequenceStart start:
                        Open(new JsonArray(), start.Anchor);
                        break;
                    case MappingEnd or SequenceEnd:
                        Close();
                        break;
                    case DocumentEnd:
                        _done = true;
                        break;
                }
            }
            return new ParsedBody(_root, _duplicates);
        }

        private void Open(JsonNode node, AnchorName anchor)
        {
            if (_frames.Count >= BodyLimits.MaxDepth) throw new MalformedBodyException($"yaml: exceeded max depth of {BodyLimits.MaxDepth}");
            if (_frames.TryPeek(out var parent) && parent.Node is JsonObject && parent.ExpectingKey)
                throw new MalformedBodyException($"yaml: invalid map key: a {(node is JsonObject ? "mapping" : "sequence")} at {Describe(parent.Path)}");
            Count(1, alias: false);
            var name = anchor.IsEmpty ? null : anchor.Value;
            if (name is not null) _open.Add(name);
            _frames.Push(new Frame(node, _frames.Count == 0 ? "" : ChildPath(_frames.Peek()), name, _decoded));
        }

        private void Close()
        {
            var frame = _frames.Pop();
            if (frame.Node is JsonObject obj) ApplyMerges(obj, frame);
            if (frame.Anchor is { } name)
            {
                _open.Remove(name);
                _anchors[name] = new Anchored(frame.Node, _decoded - frame.CountAtStart + 1, null);
            }
            Add(frame.Node, keyText: null, isMergeKey: false);
        }

        private void Expand(AnchorAlias alias)
        {
            var name = alias.Value.Value;
            if (_open.Contains(name)) throw new MalformedBodyException($"yaml: anchor '{name}' value contains itself");
            if (!_anchors.TryGetValue(name, out var anchored)) throw new MalformedBodyException($"yaml: unknown anchor '{name}' referenced");
            Count(anchored.Count, alias: true); // before copying: a bomb is refused before it costs anything
            Add(anchored.Node?.DeepClone(), anchored.KeyText, isMergeKey: false);
        }

        /// <summary>go-yaml's alias budget (decode.go, allowedAliasRatio).</summary>
        private void Count(long nodes, bool alias)
        {
            _decoded += nodes;
            if (alias) _aliased += nodes;
            if (_aliased > 100 && _decoded > 1000 && (double)_aliased / _decoded > AllowedAliasRatio(_decoded))
                throw new MalformedBodyException("yaml: document contains excessive aliasing");
        }

        private static double AllowedAliasRatio(long decoded) => decoded switch
        {
            <= 400_000 => 0.99,
            >= 4_000_000 => 0.10,
            _ => 0.99 - 0.89 * ((decoded - 400_000) / 3_600_000.0),
        };

        /// <summary>Puts a finished node where it belongs: the root, the next list element, a map's key or value.</summary>
        private void Add(JsonNode? node, string? keyText, bool isMergeKey)
        {
            if (_frames.Count == 0)
            {
                _root = node;
                return;
            }
            var frame = _frames.Peek();
            switch (frame.Node)
            {
                case JsonArray array:
                    array.Add(node);
                    frame.Index++;
                    break;
                case JsonObject when frame.ExpectingKey:
                    frame.PendingIsMerge = isMergeKey;
                    frame.PendingKey = keyText ?? throw new MalformedBodyException($"yaml: invalid map key at {Describe(frame.Path)}");
                    frame.ExpectingKey = false;
                    break;
                case JsonObject obj:
                    if (frame.PendingIsMerge)
                    {
                        frame.Merges.Add(node);
                    }
                    else
                    {
                        if (obj.ContainsKey(frame.PendingKey!))
                        {
                            _duplicates.Add(Join(frame.Path, frame.PendingKey!));
                            obj.Remove(frame.PendingKey!);
                        }
                        obj[frame.PendingKey!] = node;
                    }
                    frame.ExpectingKey = true;
                    frame.PendingKey = null;
                    frame.PendingIsMerge = false;
                    break;
            }
        }

        /// <summary>Merge keys: the keys of the merged mappings that the mapping does not set itself; of several merged
        /// mappings, the first that sets a key wins.</summary>
        private static void ApplyMerges(JsonObject obj, Frame frame)
        {
            foreach (var merge in frame.Merges)
            {
                var sources = merge switch
                {
                    JsonObject single => [single],
                    JsonArray list when list.All(e => e is JsonObject) => list.Cast<JsonObject>().ToList(),
                    _ => throw new MalformedBodyException($"yaml: map merge requires map or sequence of maps as the value at {Describe(frame.Path)}"),
                };
                foreach (var source in sources)
                {
                    foreach (var (key, value) in source)
                        if (!obj.ContainsKey(key)) obj[key] = value?.DeepClone(); // the source may be an anchor used again
                }
            }
        }

        private static string ChildPath(Frame parent) => parent.Node is JsonArray
            ? $"{parent.Path}[{parent.Index}]"
            : Join(parent.Path, parent.PendingKey ?? "");

        private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

        private static string Describe(string path) => path.Length == 0 ? "the top level" : path;
    }

    private static bool IsMergeKey(Scalar scalar) =>
        // (a quoted "<<" is a plain key: its tag is non-specific, whose Value YamlDotNet refuses to read)
        scalar.Value == "<<" && (scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty ||
                                 !scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value == TagPrefix + "merge");

    /// <summary>A scalar's JSON value and its text as a map key.</summary>
    private static (JsonNode? Value, string KeyText) Resolve(Scalar scalar)
    {
        var text = scalar.Value;
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is null && scalar.Style != ScalarStyle.Plain) return (JsonValue.Create(text), text);
        switch (tag)
        {
            case TagPrefix + "str" or TagPrefix + "binary" or TagPrefix + "timestamp" or "!":
                return (JsonValue.Create(text), text);
            case TagPrefix + "null":
                return (null, "null");
            case TagPrefix + "bool":
                return Bool(text) is { } b ? (JsonValue.Create(b), b ? "true" : "false") : throw Cannot(text, "bool");
            case TagPrefix + "int":
                return Integer(text) ?? throw Cannot(text, "int");
            case TagPrefix + "float":
                return Integer(text) ?? Float(text) ?? throw Cannot(text, "float");
        }
        if (text is "" or "~" or "null" or "Null" or "NULL") return (null, "null");
        if (Bool(text) is { } flag) return (JsonValue.Create(flag), flag ? "true" : "false");
        return Integer(text) ?? Float(text) ?? (JsonValue.Create(text), text);
    }

    private static MalformedBodyException Cannot(string text, string type) =>
        new($"yaml: cannot decode !!str `{text}` as a !!{type}");

    private static bool? Bool(string text) => text switch
    {
        "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON" => true,
        "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF" => false,
        _ => null,
    };

    /// <summary>Go's strconv.ParseInt(s, 0, 64) after removing underscores, then ParseUint: decimal, 0x, 0o, 0b and
    /// leading-zero octal, with a sign.</summary>
    private static (JsonNode?, string)? Integer(string text)
    {
        var s = text.Replace("_", "");
        if (s.Length == 0 || s.Length > 80) return null;
        var negative = s[0] == '-';
        if (s[0] is '-' or '+') s = s[1..];
        var (radix, digits) = s.Length > 1 && s[0] == '0'
            ? char.ToLowerInvariant(s[1]) switch
            {
                'x' => (16, s[2..]),
                'o' => (8, s[2..]),
                'b' => (2, s[2..]),
                _ => (8, s[1..]),
            }
            : (10, s);
        if (digits.Length == 0) return s == "0" ? (JsonValue.Create(0L), "0") : null;
        System.Numerics.BigInteger value = 0;
        foreach (var c in digits)
        {
            var d = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => 99,
            };
            if (d >= radix) return null;
            value = value * radix + d;
        }
        if (negative) value = -value;
        if (value >= long.MinValue && value <= long.MaxValue) return (JsonValue.Create((long)value), value.ToString(CultureInfo.InvariantCulture));
        if (value >= 0 && value <= ulong.MaxValue) return (JsonValue.Create((ulong)value), value.ToString(CultureInfo.InvariantCulture));
        return null;
    }

    /// <summary>go-yaml v2's float syntax; infinities and NaN have no JSON form and stay strings.</summary>
    private static (JsonNode?, string)? Float(string text)
    {
        var s = text.Replace("_", "");
        if (!System.Text.RegularExpressions.Regex.IsMatch(s, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z")) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d)) return null;
        return (JsonValue.Create(d), d.ToString("R", CultureInfo.InvariantCulture));
    }
}
