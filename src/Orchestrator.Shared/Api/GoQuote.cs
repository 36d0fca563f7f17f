using System.Globalization;
using System.Text;

namespace Orchestrator.Shared.Api;

/// <summary>
/// Go's <c>strconv.Quote</c> (the <c>%q</c> and <c>%#v</c> of a string in kube's messages): in double quotes, <c>"</c>
/// and <c>\</c> escaped, printable characters kept, <c>\a \b \f \n \r \t \v</c>, other control characters as
/// <c>\xNN</c> and any other character that is not printable as <c>\uNNNN</c> or <c>\UNNNNNNNN</c>.
/// </summary>
public static class GoQuote
{
    public static string Quote(string s)
    {
        var quoted = new StringBuilder(s.Length + 2).Append('"');
        foreach (var rune in s.EnumerateRunes())
        {
            var r = rune.Value;
            if (r is '"' or '\\')
            {
                quoted.Append('\\').Append((char)r);
                continue;
            }
            if (IsPrint(rune))
            {
                quoted.Append(rune.ToString());
                continue;
            }
            switch (r)
            {
                case '\a': quoted.Append("\\a"); break;
                case '\b': quoted.Append("\\b"); break;
                case '\f': quoted.Append("\\f"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                case '\v': quoted.Append("\\v"); break;
                case < ' ' or 0x7f: quoted.Append("\\x").Append(r.ToString("x2", CultureInfo.InvariantCulture)); break;
                case < 0x10000: quoted.Append("\\u").Append(r.ToString("x4", CultureInfo.InvariantCulture)); break;
                default: quoted.Append("\\U").Append(r.ToString("x8", CultureInfo.InvariantCulture)); break;
            }
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsPrint(Rune rune) => rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation
            or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol => true,
        _ => false,
    };
}
