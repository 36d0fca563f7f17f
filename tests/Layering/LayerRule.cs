namespace Orchestrator.Layering;

/// <summary>
/// The layering rule of one assembly: its folders (namespaces under the root namespace, written as paths such as
/// <c>Api/Rest</c>) and, for each, the layers directly below it. A layer may use its own types and those of every
/// layer below it, transitively; nothing else. A type belongs to the longest folder that contains its namespace;
/// <c>""</c> is the root namespace itself (the composition root). A namespace with no layer is a violation too, so
/// a new folder must take its place in the rule.
/// </summary>
internal sealed class LayerRule
{
    private readonly string _root;
    private readonly Dictionary<string, string[]> _below;
    private readonly Dictionary<string, HashSet<string>> _mayUse = new();

    public LayerRule(string rootNamespace, params (string Layer, string[] Below)[] layers)
    {
        _root = rootNamespace;
        _below = layers.ToDictionary(l => l.Layer, l => l.Below);
        foreach (var below in _below.Values.SelectMany(b => b))
            if (!_below.ContainsKey(below)) throw new ArgumentException($"layer '{below}' is named below another but not declared");
        foreach (var layer in _below.Keys) _mayUse[layer] = Closure(layer, []);
    }

    public IReadOnlySet<string> MayUse(string layer) => _mayUse[layer];

    /// <summary>The layer of a top-level type's full name: null outside the root namespace (generated code), "?" for
    /// a namespace under the root that no layer holds.</summary>
    public string? LayerOf(string typeFullName)
    {
        var dot = typeFullName.LastIndexOf('.');
        var ns = dot < 0 ? "" : typeFullName[..dot];
        if (ns == _root) return "";
        if (!ns.StartsWith(_root + ".", StringComparison.Ordinal)) return null;
        var path = ns[(_root.Length + 1)..].Replace('.', '/');
        return _below.Keys.Where(l => l.Length > 0 && (path == l || path.StartsWith(l + "/", StringComparison.Ordinal)))
            .OrderByDescending(l => l.Length).FirstOrDefault() ?? "?";
    }

    /// <summary>Pairs of layers (user, used) with an example of each, from type references.</summary>
    public IReadOnlyDictionary<(string From, string To), (string From, string To)> LayerEdges(IEnumerable<(string From, string To)> references)
    {
        var edges = new SortedDictionary<(string, string), (string, string)>();
        foreach (var (from, to) in references.OrderBy(r => r.From, StringComparer.Ordinal).ThenBy(r => r.To, StringComparer.Ordinal))
            if (LayerOf(from) is { } a && LayerOf(to) is { } b && a != b)
                edges.TryAdd((a, b), (from, to));
        return edges;
    }

    /// <summary>One line per forbidden reference (grouped by pair of layers, with up to three examples).</summary>
    public IReadOnlyList<string> Violations(IEnumerable<(string From, string To)> references)
    {
        var found = new List<string>();
        var pairs = references
            .Select(r => (r.From, r.To, FromLayer: LayerOf(r.From), ToLayer: LayerOf(r.To)))
            .Where(r => r.FromLayer is not null && r.ToLayer is not null)
            .ToList();
        foreach (var type in pairs.SelectMany(p => new[] { (p.From, p.FromLayer), (p.To, p.ToLayer) }).Where(t => t.Item2 == "?")
                     .Select(t => t.Item1).Distinct().Order(StringComparer.Ordinal))
            found.Add($"{type} is in no layer of the rule: give its folder a place in the rule");
        foreach (var group in pairs
                     .Where(p => p.FromLayer != "?" && p.ToLayer != "?" && p.FromLayer != p.ToLayer && !_mayUse[p.FromLayer!].Contains(p.ToLayer!))
                     .GroupBy(p => (p.FromLayer, p.ToLayer)).OrderBy(g => g.Key))
        {
            var (from, to) = group.Key;
            var examples = group.Select(p => $"{p.From} uses {p.To}").Order(StringComparer.Ordinal).Take(3);
            var allowed = _mayUse[from!].Count == 0 ? "nothing" : string.Join(", ", _mayUse[from!].Order(StringComparer.Ordinal));
            found.Add($"{Display(from!)} must not use {Display(to!)} ({Display(from!)} may use {allowed}): {string.Join("; ", examples)}");
        }
        return found;
    }

    private static string Display(string layer) => layer.Length == 0 ? "the root namespace" : layer;

    private HashSet<string> Closure(string layer, HashSet<string> seen)
    {
        var pending = new Stack<string>(_below[layer]);
        while (pending.TryPop(out var below))
            if (seen.Add(below))
                foreach (var next in _below[below]) pending.Push(next);
        if (seen.Contains(layer)) throw new ArgumentException($"layer '{layer}' is below itself");
        return seen;
    }
}
