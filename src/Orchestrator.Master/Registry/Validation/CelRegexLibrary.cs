using System.Text.RegularExpressions;
using Cel;

namespace Orchestrator.Master.Registry.Validation;

/// <summary>
/// kube's regex library (apiserver/pkg/cel/library/regex.go): <c>s.find(re)</c> is the first match or "",
/// <c>s.findAll(re)</c> every match, <c>s.findAll(re, n)</c> at most n (all when n is negative). Patterns are .NET
/// regular expressions, not RE2: the common syntax means the same, but a pattern only one of them accepts differs, and
/// instead of RE2's linear time a match is cut off after <see cref="MatchTimeout"/>. The text's length is charged to the
/// expression's cost.
/// </summary>
internal static class CelRegexLibrary
{
    public static readonly IReadOnlyList<string> Functions = ["find", "findAll"];

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly Dictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    public static void Register(CelEnvironment env)
    {
        env.RegisterFunction("find", [typeof(string), typeof(string)], a =>
        {
            var m = Match(a[0], a[1]);
            return m.Success ? m.Value : "";
        });
        env.RegisterFunction("findAll", [typeof(string), typeof(string)], a => FindAll((string)a[0]!, (string)a[1]!, -1));
        env.RegisterFunction("findAll", [typeof(string), typeof(string), typeof(long)], a => FindAll((string)a[0]!, (string)a[1]!, (long)a[2]!));
    }

    private static Match Match(object? text, object? pattern)
    {
        CelCost.Charge(((string)text!).Length);
        return Pattern((string)pattern!).Match((string)text);
    }

    private static object?[] FindAll(string text, string pattern, long limit)
    {
        CelCost.Charge(text.Length);
        if (limit == 0) return [];
        var found = new List<object?>();
        for (var m = Pattern(pattern).Match(text); m.Success && (limit < 0 || found.Count < limit); m = m.NextMatch()) found.Add(m.Value);
        return found.ToArray();
    }

    private static Regex Pattern(string pattern)
    {
        lock (Compiled)
        {
            if (Compiled.TryGetValue(pattern, out var regex)) return regex;
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
            }
            catch (ArgumentException e)
            {
                throw new CelException($"error parsing regexp: {e.Message}");
            }
            if (Compiled.Count >= 1000) Compiled.Clear();
            return Compiled[pattern] = regex;
        }
    }
}
