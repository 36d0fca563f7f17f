using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// A parsed label selector, from the query-string form (<c>a=b,c!=d,e in (x,y),!f,g</c>) or from a
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

    public enum Operator { Equals, NotEquals, In, NotIn, Exists, DoesNotExist }

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

    /// <summary>Parses the <c>labelSelector</c> query-string form. Throws <see cref="FormatException"/> on bad input.</summary>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Everything;
        var requirements = new List<Requirement>();
        foreach (var term in SplitTerms(text))
        {
            var t = term.Trim();
            if (t.Length == 0) throw new FormatException($"invalid label selector \"{text}\": empty requirement");
            requirements.Add(ParseTerm(t, text));
        }
        return new LabelSelector(requirements);
    }

    private static Requirement ParseTerm(string t, string text)
    {
        if (t.StartsWith('!'))
            return new Requirement(CheckKey(t[1..].Trim(), text), Operator.DoesNotExist, []);

        var setMatch = System.Text.RegularExpressions.Regex.Match(t, @"^(\S+)\s+(in|notin)\s*\((.*)\)$");
        if (setMatch.Success)
        {
            if (setMatch.Groups[3].Value.Trim().Length == 0)
                throw new FormatException($"invalid label selector \"{text}\": for 'in', 'notin' operators, values set can't be empty");
            var values = setMatch.Groups[3].Value.Split(',').Select(v => CheckValue(v.Trim(), text)).ToList();
            return new Requirement(CheckKey(setMatch.Groups[1].Value, text),
                setMatch.Groups[2].Value == "in" ? Operator.In : Operator.NotIn, values);
        }

        foreach (var (token, op) in new[] { ("!=", Operator.NotEquals), ("==", Operator.Equals), ("=", Operator.Equals) })
        {
            var at = t.IndexOf(token, StringComparison.Ordinal);
            if (at < 0) continue;
            return new Requirement(CheckKey(t[..at].Trim(), text), op, [CheckValue(t[(at + token.Length)..].Trim(), text)]);
        }
        return new Requirement(CheckKey(t, text), Operator.Exists, []);
    }

    // A key is a label key, a qualified name: [prefix/]name, as Kubernetes' selector parser validates it.
    private static string CheckKey(string key, string text)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or ',' or '!' or '=') || !IsQualifiedName(key))
            throw new FormatException($"invalid label selector \"{text[..Math.Min(text.Length, 256)]}\": invalid key \"{Short(key)}\"");
        return key;
    }

    // A value is a label value: never an operator character or a space (Kubernetes' lexer rejects "a===b").
    private static string CheckValue(string value, string text)
    {
        if (value.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or ',' or '!' or '=') || (value.Length > 0 && !IsLabelName(value)))
            throw new FormatException($"invalid label selector \"{text[..Math.Min(text.Length, 256)]}\": invalid value \"{Short(value)}\"");
        return value;
    }

    private static string Short(string text) => text.Length > 64 ? text[..64] + "…" : text;

    private static bool IsQualifiedName(string key)
    {
        var slash = key.LastIndexOf('/');
        if (slash < 0) return IsLabelName(key);
        var prefix = key[..slash];
        return prefix.Length is > 0 and <= 253 && prefix.Split('.').All(IsDnsLabel) && IsLabelName(key[(slash + 1)..]);
    }

    // A label name or value: at most 63 characters, alphanumeric at both ends, '-', '_' and '.' inside.
    private static bool IsLabelName(string name) =>
        name.Length is > 0 and <= 63 && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]) &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static bool IsDnsLabel(string label) =>
        label.Length is > 0 and <= 63 && (char.IsAsciiLetterLower(label[0]) || char.IsAsciiDigit(label[0])) &&
        (char.IsAsciiLetterLower(label[^1]) || char.IsAsciiDigit(label[^1])) &&
        label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    // Commas separate requirements except inside the parentheses of a set.
    private static IEnumerable<string> SplitTerms(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    public override string ToString() => string.Join(",", _requirements.Select(r => r.Op switch
    {
        Operator.Equals => $"{r.Key}={r.Values[0]}",
        Operator.NotEquals => $"{r.Key}!={r.Values[0]}",
        Operator.In => $"{r.Key} in ({string.Join(",", r.Values)})",
        Operator.NotIn => $"{r.Key} notin ({string.Join(",", r.Values)})",
        Operator.Exists => r.Key,
        _ => "!" + r.Key,
    }));
}
