using System.Text;

namespace Orchestrator.Shared.Api;

/// <summary>
/// Go's <c>time.ParseDuration</c>, with its error text: kube-apiserver reads the <c>timeout</c> query parameter and its
/// own <c>--request-timeout</c> with it, and answers a bad parameter with the message unchanged. The grammar is an
/// optional sign, then one or more decimal numbers (a fraction allowed) each with a unit (ns, us, µs, μs, ms, s, m, h);
/// "0" alone needs no unit. Values beyond ±2⁶³-1 ns are refused, as in Go.
/// </summary>
public static class GoDuration
{
    private const ulong Limit = 1UL << 63;

    private static readonly Dictionary<string, ulong> Units = new(StringComparer.Ordinal)
    {
        ["ns"] = 1,
        ["us"] = 1_000,
        ["µs"] = 1_000, // U+00B5 micro sign
        ["μs"] = 1_000, // U+03BC Greek mu
        ["ms"] = 1_000_000,
        ["s"] = 1_000_000_000,
        ["m"] = 60_000_000_000,
        ["h"] = 3_600_000_000_000,
    };

    /// <summary>The duration in nanoseconds, or null with Go's error (<c>time: invalid duration "x"</c>,
    /// <c>time: missing unit in duration "5"</c>, <c>time: unknown unit "d" in duration "1d"</c>).</summary>
    public static long? TryParse(string text, out string? error)
    {
        error = null;
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s is "0") return 0;
        if (s.IsEmpty) return Invalid(text, out error);
        ulong total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0]))) return Invalid(text, out error);
            var before = s.Length;
            if (!LeadingInt(ref s, out var whole)) return Invalid(text, out error);
            var hasWhole = before != s.Length;
            ulong fraction = 0;
            var scale = 1.0;
            var hasFraction = false;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                before = s.Length;
                LeadingFraction(ref s, out fraction, out scale);
                hasFraction = before != s.Length;
            }
            if (!hasWhole && !hasFraction) return Invalid(text, out error); // "." or ".s"
            var end = 0;
            while (end < s.Length && s[end] != '.' && !char.IsAsciiDigit(s[end])) end++;
            if (end == 0)
            {
                error = $"time: missing unit in duration {Quote(text)}";
                return null;
            }
            var name = s[..end].ToString();
            s = s[end..];
            if (!Units.TryGetValue(name, out var unit))
            {
                error = $"time: unknown unit {Quote(name)} in duration {Quote(text)}";
                return null;
            }
            if (whole > Limit / unit) return Invalid(text, out error);
            var value = whole * unit;
            if (fraction > 0)
            {
                value += (ulong)(fraction * (unit / scale));
                if (value > Limit) return Invalid(text, out error);
            }
            total += value;
            if (total > Limit) return Invalid(text, out error);
        }
        if (negative) return total == Limit ? long.MinValue : -(long)total;
        return total > long.MaxValue ? Invalid(text, out error) : (long)total;
    }

    /// <summary>The duration as a TimeSpan (Go's nanoseconds in 100 ns ticks, rounded down), or null with Go's error.</summary>
    public static TimeSpan? TryParseTimeSpan(string text, out string? error) =>
        TryParse(text, out error) is { } nanoseconds ? TimeSpan.FromTicks(nanoseconds / 100) : null;

    private static long? Invalid(string text, out string error)
    {
        error = $"time: invalid duration {Quote(text)}";
        return null;
    }

    // digits as an integer; false when it overflows 2^63
    private static bool LeadingInt(ref ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (value > Limit / 10) return false;
            value = value * 10 + (ulong)(s[i] - '0');
            if (value > Limit) return false;
        }
        s = s[i..];
        return true;
    }

    // digits after the point, as value / scale; digits beyond what fits are dropped, as Go does
    private static void LeadingFraction(ref ReadOnlySpan<char> s, out ulong value, out double scale)
    {
        value = 0;
        scale = 1;
        var overflow = false;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflow) continue;
            if (value > (Limit - 1) / 10)
            {
                overflow = true;
                continue;
            }
            var next = value * 10 + (ulong)(s[i] - '0');
            if (next > Limit)
            {
                overflow = true;
                continue;
            }
            value = next;
            scale *= 10;
        }
        s = s[i..];
    }

    /// <summary>The time package's own quoting (not strconv.Quote): ASCII as it is with " and \ escaped; control
    /// characters and every byte of a non-ASCII character as \xNN.</summary>
    private static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value >= 0x80 || rune.Value < ' ')
            {
                var length = rune.EncodeToUtf8(bytes);
                foreach (var b in bytes[..length]) quoted.Append(@"\x").Append(b.ToString("x2"));
                continue;
            }
            if (rune.Value is '"' or '\\') quoted.Append('\\');
            quoted.Append((char)rune.Value);
        }
        return quoted.Append('"').ToString();
    }
}
