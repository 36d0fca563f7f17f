using System.Text;

namespace Orchestrator.Shared.Api;

/// <summary>
/// The <c>fieldSelector</c> query form as apimachinery's fields.ParseSelector reads it: terms split at commas not
/// escaped by '\', sorted, empty ones skipped; each split at its first <c>!=</c>, <c>==</c> or <c>=</c>; nothing
/// trimmed; the value unescaped (<c>\\ \, \=</c>). Which fields a resource selects is checked by the API, not here.
/// Refusals are <see cref="FormatException"/>s with kube's messages.
/// </summary>
public static class FieldSelectorSyntax
{
    public sealed record Term(string Field, bool Equal, string Value);

    private static readonly string[] Operators = ["!=", "==", "="];

    public static IReadOnlyList<Term> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var parts = SplitTerms(text);
        parts.Sort(Utf8Order.Instance);
        var terms = new List<Term>();
        foreach (var part in parts)
        {
            if (part.Length == 0) continue;
            var (field, op, value) = SplitTerm(part)
                ?? throw new FormatException($"invalid selector: '{text}'; can't understand '{part}'");
            terms.Add(new Term(field, op != "!=", Unescape(value)));
        }
        return terms;
    }

    /// <summary>The value the terms require <paramref name="field"/> to equal (the first such term), as
    /// RequiresExactMatch answers; null when none does.</summary>
    public static string? RequiredValue(IReadOnlyList<Term> terms, string field) =>
        terms.FirstOrDefault(t => t.Equal && t.Field == field)?.Value;

    private static List<string> SplitTerms(string text)
    {
        var terms = new List<string>();
        var start = 0;
        var escaped = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (escaped) escaped = false;
            else if (text[i] == '\\') escaped = true;
            else if (text[i] == ',')
            {
                terms.Add(text[start..i]);
                start = i + 1;
            }
        }
        terms.Add(text[start..]);
        return terms;
    }

    // The first place where an operator starts; "!=" before "==" before "=" at the same place.
    private static (string Field, string Op, string Value)? SplitTerm(string term)
    {
        for (var i = 0; i < term.Length; i++)
            foreach (var op in Operators)
                if (string.CompareOrdinal(term, i, op, 0, op.Length) == 0)
                    return (term[..i], op, term[(i + op.Length)..]);
        return null;
    }

    private static string Unescape(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', ',', '=') < 0) return value;
        var unescaped = new StringBuilder(value.Length);
        var escaped = false;
        foreach (var rune in value.EnumerateRunes())
        {
            if (escaped)
            {
                if (rune.Value is not ('\\' or ',' or '='))
                    throw new FormatException($"invalid field selector: invalid escape sequence: \\{rune}");
                unescaped.Append((char)rune.Value);
                escaped = false;
                continue;
            }
            switch (rune.Value)
            {
                case '\\':
                    escaped = true;
                    break;
                case ',' or '=':
                    // Go prints the rune with %v: its number ("61" for '=').
                    throw new FormatException($"invalid field selector: unescaped character in value: {rune.Value}");
                default:
                    unescaped.Append(rune.ToString());
                    break;
            }
        }
        if (escaped) throw new FormatException("invalid field selector: invalid escape sequence: \\");
        return unescaped.ToString();
    }
}
