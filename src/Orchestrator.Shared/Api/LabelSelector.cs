using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// A parsed label selector, from the query-string form (<c>a=b,c!=d,e in (x,y),!f,g,h&gt;1</c>) or from a
/// <see cref="V1LabelSelector"/> (matchLabels + matchExpressions). All requirements must hold.
/// An empty selector matches everything, as in Kubernetes; <see cref="Nothing"/> matches nothing.
/// </summary>
public sealed class LabelSelector
{
    private readonly IReadOnlyList<Requirement> _requirements;
    private readonly bool _matchesNothing;

    private LabelSelector(IReadOnlyList<Requirement> requirements, bool matchesNothing = false)
    {
        _requirements = requirements;
        _matchesNothing = matchesNothing;
    }

    public static LabelSelector Everything { get; } = new([]);
    public static LabelSelector Nothing { get; } = new([], matchesNothing: true);

    public bool IsEmpty => _requirements.Count == 0 && !_matchesNothing;

    /// <summary>Equals also stands for "=="; GreaterThan and LessThan come only from the query form.</summary>
    public enum Operator { Equals, NotEquals, In, NotIn, Exists, DoesNotExist, GreaterThan, LessThan }

    public sealed record Requirement(string Key, Operator Op, IReadOnlyList<string> Values)
    {
        public bool Matches(IDictionary<string, string>? labels)
        {
            string? value = null;
            var has = labels is not null && labels.TryGetValue(Key, out value);
            return Op switch
            {
                Operator.Equals or Operator.In => has && Values.Contains(value!),
                Operator.NotEquals or Operator.NotIn => !has || !Values.Contains(value!),
                Operator.Exists => has,
                Operator.DoesNotExist => !has,
                // Both sides as integers; a label value that is not one never matches.
                Operator.GreaterThan or Operator.LessThan => has && Values.Count == 1 &&
                    LabelSelectorParser.TryParseInteger(value!, out var actual) &&
                    LabelSelectorParser.TryParseInteger(Values[0], out var bound) &&
                    (Op == Operator.GreaterThan ? actual > bound : actual < bound),
                _ => false,
            };
        }
    }

    public IReadOnlyList<Requirement> Requirements => _requirements;

    public bool Matches(IDictionary<string, string>? labels) =>
        !_matchesNothing && _requirements.All(r => r.Matches(labels));

    /// <summary>Kubernetes semantics: a null selector matches nothing, an empty one everything.</summary>
    public static LabelSelector FromLabelSelector(V1LabelSelector? selector)
    {
        if (selector is null) return Nothing;
        var requirements = new List<Requirement>();
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
            requirements.Add(new Requirement(key, Operator.Equals, [value]));
        foreach (var expression in selector.MatchExpressions ?? [])
        {
            var op = expression.OperatorProperty switch
            {
                "In" => Operator.In,
                "NotIn" => Operator.NotIn,
                "Exists" => Operator.Exists,
                "DoesNotExist" => Operator.DoesNotExist,
                var other => throw new FormatException($"\"{other}\" is not a valid label selector operator"),
            };
            requirements.Add(new Requirement(expression.Key, op, expression.Values?.ToList() ?? []));
        }
        return new LabelSelector(requirements);
    }

    /// <summary>The map form used by ReplicationController and Service selectors: nil or empty selects nothing.</summary>
    public static LabelSelector FromMap(IDictionary<string, string>? selector) =>
        selector is null || selector.Count == 0
            ? Nothing
            : new LabelSelector(selector.Select(kv => new Requirement(kv.Key, Operator.Equals, [kv.Value])).ToList());

    /// <summary>Parses the <c>labelSelector</c> query-string form as kube's labels.Parse does (requirements sorted by
    /// key, set values sorted and distinct). Throws <see cref="FormatException"/> with kube's message on bad input.</summary>
    public static LabelSelector Parse(string? text) =>
        string.IsNullOrEmpty(text) ? Everything : new LabelSelector(LabelSelectorParser.Parse(text));

    public override string ToString() => string.Join(",", _requirements.Select(r => r.Op switch
    {
        Operator.Equals => $"{r.Key}={r.Values[0]}",
        Operator.NotEquals => $"{r.Key}!={r.Values[0]}",
        Operator.In => $"{r.Key} in ({string.Join(",", r.Values)})",
        Operator.NotIn => $"{r.Key} notin ({string.Join(",", r.Values)})",
        Operator.Exists => r.Key,
        Operator.GreaterThan => $"{r.Key}>{r.Values[0]}",
        Operator.LessThan => $"{r.Key}<{r.Values[0]}",
        _ => "!" + r.Key,
    }));
}
