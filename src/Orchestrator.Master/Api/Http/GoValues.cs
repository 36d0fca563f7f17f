using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using System.Globalization;
using System.Text;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// Query values read as kube-apiserver's parameter codec reads them (apimachinery's string conversions: Go's
/// <c>strconv.ParseInt</c> and <c>time.Parse(time.RFC3339, …)</c>), with Go's error text, which the API server
/// answers as a 400 BadRequest unchanged.
/// </summary>
internal static class GoValues
{
    /// <summary>strconv.ParseInt(text, 10, 64): an optional sign and decimal digits, nothing else.</summary>
    /// <exception cref="FormatException">Go's message: <c>strconv.ParseInt: parsing "x": invalid syntax</c> or <c>value out of range</c>.</exception>
    public static long ParseInt64(string text)
    {
        var digits = text.Length > 0 && text[0] is '+' or '-' ? text.AsSpan(1) : text.AsSpan();
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9'))
            throw new FormatException($"strconv.ParseInt: parsing {GoQuote.Quote(text)}: invalid syntax");
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"strconv.ParseInt: parsing {GoQuote.Quote(text)}: value out of range");
    }

    private const string Rfc3339 = "2006-01-02T15:04:05Z07:00";

    /// <summary>time.Parse(time.RFC3339, text): Go's general layout walk (one- or two-digit hours, fractional seconds
    /// though the layout has none, Z or ±hh:mm), the month, hour, minute, second and day ranges checked.</summary>
    /// <exception cref="FormatException">Go's ParseError text, e.g. <c>parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"</c>.</exception>
    public static DateTimeOffset ParseRfc3339(string text)
    {
        var value = text;
        FormatException CannotParse(string rest, string element) =>
            new($"parsing time {Quote(text)} as {Quote(Rfc3339)}: cannot parse {Quote(rest)} as {Quote(element)}");
        FormatException OutOfRange(string what) => new($"parsing time {Quote(text)}: {what} out of range");

        if (value.Length < 4 || !int.TryParse(value.AsSpan(0, 4), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var year))
            throw CannotParse(value, "2006");
        value = value[4..];
        value = Skip(value, '-') ?? throw CannotParse(value, "-");
        var hold = value;
        var month = Number(ref value, fixedWidth: true) ?? throw CannotParse(hold, "01");
        if (month is < 1 or > 12) throw OutOfRange("month");
        value = Skip(value, '-') ?? throw CannotParse(value, "-");
        hold = value;
        var day = Number(ref value, fixedWidth: true) ?? throw CannotParse(hold, "02");
        value = Skip(value, 'T') ?? throw CannotParse(value, "T");
        hold = value;
        var hour = Number(ref value, fixedWidth: false) ?? throw CannotParse(hold, "15");
        if (hour >= 24) throw OutOfRange("hour");
        value = Skip(value, ':') ?? throw CannotParse(value, ":");
        hold = value;
        var minute = Number(ref value, fixedWidth: true) ?? throw CannotParse(hold, "04");
        if (minute >= 60) throw OutOfRange("minute");
        value = Skip(value, ':') ?? throw CannotParse(value, ":");
        hold = value;
        var second = Number(ref value, fixedWidth: true) ?? throw CannotParse(hold, "05");
        if (second >= 60) throw OutOfRange("second");
        long ticks = 0;
        if (value.Length >= 2 && value[0] is '.' or ',' && char.IsAsciiDigit(value[1]))
        {
            var n = 2;
            while (n < value.Length && char.IsAsciiDigit(value[n])) n++;
            var fraction = value[1..Math.Min(n, 8)].PadRight(7, '0'); // 100 ns ticks; Go keeps nanoseconds, the rest is below any use here
            ticks = long.Parse(fraction, CultureInfo.InvariantCulture);
            value = value[n..];
        }
        hold = value;
        TimeSpan offset;
        if (value.StartsWith('Z'))
        {
            offset = TimeSpan.Zero;
            value = value[1..];
        }
        else
        {
            if (value.Length < 6 || value[3] != ':') throw CannotParse(hold, "Z07:00");
            var sign = value[0];
            var zoneHours = value[1..3];
            var zoneMinutes = value[4..6];
            value = value[6..];
            if (Number(ref zoneHours, fixedWidth: true) is not { } zh || Number(ref zoneMinutes, fixedWidth: true) is not { } zm || sign is not ('+' or '-'))
                throw CannotParse(hold, "Z07:00");
            if (zh > 24) throw OutOfRange("time zone offset hour");
            if (zm > 60) throw OutOfRange("time zone offset minute");
            offset = new TimeSpan(zh, zm, 0) * (sign == '-' ? -1 : 1);
        }
        if (value.Length > 0) throw new FormatException($"parsing time {Quote(text)}: extra text: {Quote(value)}");
        if (day < 1 || day > DaysIn(month, year)) throw OutOfRange("day");
        // Go has years before 1 and after 9999 (a sign, an offset of 24 hours): before or after anything a log holds
        if (year < 1) return DateTimeOffset.MinValue;
        try
        {
            return new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).AddTicks(ticks).Subtract(offset).ToOffset(TimeSpan.Zero);
        }
        catch (ArgumentOutOfRangeException)
        {
            return year == 1 ? DateTimeOffset.MinValue : DateTimeOffset.MaxValue;
        }
    }

    private static int DaysIn(int month, int year) =>
        month == 2 ? year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        : month is 4 or 6 or 9 or 11 ? 30 : 31;

    private static string? Skip(string value, char literal) => value.Length > 0 && value[0] == literal ? value[1..] : null;

    /// <summary>Go's getnum: one or two digits (two when fixed).</summary>
    private static int? Number(ref string value, bool fixedWidth)
    {
        if (value.Length == 0 || !char.IsAsciiDigit(value[0])) return null;
        if (value.Length < 2 || !char.IsAsciiDigit(value[1]))
        {
            if (fixedWidth) return null;
            var one = value[0] - '0';
            value = value[1..];
            return one;
        }
        var two = (value[0] - '0') * 10 + (value[1] - '0');
        value = value[2..];
        return two;
    }

    /// <summary>The time package's quoting in its ParseError (not strconv's): in double quotes, <c>"</c> and <c>\</c>
    /// escaped, control characters and every byte of a non-ASCII character as <c>\xNN</c>.</summary>
    internal static string Quote(string s)
    {
        var quoted = new StringBuilder(s.Length + 2).Append('"');
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.Value is >= 0x20 and < 0x80)
            {
                if (rune.Value is '"' or '\\') quoted.Append('\\');
                quoted.Append((char)rune.Value);
                continue;
            }
            var length = rune.EncodeToUtf8(bytes);
            foreach (var b in bytes[..length]) quoted.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return quoted.Append('"').ToString();
    }
}
