using System.Text;
using System.Text.RegularExpressions;

namespace Orchestrator.Master.Api.Http;

/// <summary>Two rules of go-yaml v2 (sigs.k8s.io/yaml's fork, which kube-apiserver's YAML answers go through): the order
/// of a map's keys (sorter.go) and whether a string written plain reads back as that string (resolve.go).</summary>
internal static partial class GoYamlRules
{
    /// <summary>keyList.Less for string keys: letters by code point and after every non-letter; runs of digits by their
    /// value (a run after a non-zero digit counts its leading zeros), a shorter run first on equal values.</summary>
    public static int CompareKeys(string a, string b) =>
        string.Equals(a, b, StringComparison.Ordinal) ? 0 : Less(a, b) ? -1 : Less(b, a) ? 1 : 0;

    private static bool Less(string a, string b)
    {
        var ar = Runes(a);
        var br = Runes(b);
        for (var i = 0; i < ar.Length && i < br.Length; i++)
        {
            if (ar[i] == br[i]) continue;
            var al = Rune.IsLetter(new Rune(ar[i]));
            var bl = Rune.IsLetter(new Rune(br[i]));
            if (al && bl) return ar[i] < br[i];
            if (al || bl) return bl;
            long an = 0, bn = 0;
            if (ar[i] == '0' || br[i] == '0')
            {
                for (var j = i - 1; j >= 0 && Rune.IsDigit(new Rune(ar[j])); j--)
                {
                    if (ar[j] == '0') continue;
                    an = 1;
                    bn = 1;
                    break;
                }
            }
            int ai, bi;
            unchecked
            {
                for (ai = i; ai < ar.Length && Rune.IsDigit(new Rune(ar[ai])); ai++) an = an * 10 + (ar[ai] - '0');
                for (bi = i; bi < br.Length && Rune.IsDigit(new Rune(br[bi])); bi++) bn = bn * 10 + (br[bi] - '0');
            }
            if (an != bn) return an < bn;
            if (ai != bi) return ai < bi;
            return ar[i] < br[i];
        }
        return ar.Length < br.Length;
    }

    private static int[] Runes(string s)
    {
        var runes = new List<int>(s.Length);
        foreach (var rune in s.EnumerateRunes()) runes.Add(rune.Value);
        return [.. runes];
    }

    /// <summary>Whether go-yaml's resolve reads <paramref name="s"/>, written plain, as the string itself (and it is no
    /// YAML 1.1 base-60 number, which go-yaml quotes for other parsers' sake). Where go-yaml would keep a string whose
    /// number does not fit a float64 ("1e999"), this says no: quoted, every parser reads it as a string.</summary>
    public static bool ReadsBackAsString(string s)
    {
        if (s.Length == 0 || Special.Contains(s)) return false;
        switch (s[0])
        {
            case '.':
                return !double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
            case '+' or '-' or (>= '0' and <= '9'):
                if (Timestamp().IsMatch(s) || Base60Float().IsMatch(s)) return false;
                var plain = s.Replace("_", "");
                return !(Integer().IsMatch(plain) || Float().IsMatch(plain) || Binary().IsMatch(plain));
            default:
                return true;
        }
    }

    private static readonly HashSet<string> Special = new(StringComparer.Ordinal)
    {
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
    };

    // strconv.ParseInt/ParseUint with base 0 (and big.Int's SetString beyond 64 bits): 0x, 0o, 0b prefixes, a leading 0 for octal
    [GeneratedRegex("^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\\z")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z")]
    private static partial Regex Float();

    [GeneratedRegex("^-?0b[01]+\\z")]
    private static partial Regex Binary();

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\z")]
    private static partial Regex Base60Float();

    // parseTimestamp's formats, without its range checks (a string that only looks like one is quoted as well)
    [GeneratedRegex(@"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?(Z|[-+][0-9]{2}:[0-9]{2})?)?\z")]
    private static partial Regex Timestamp();
}
