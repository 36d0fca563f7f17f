using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Master.Api.Http;

/// <summary>
/// kube-apiserver's YAML answers: its YAML serializer writes the object's JSON and converts it with sigs.k8s.io/yaml's
/// JSONToYAML — go-yaml v2 reads the JSON into generic maps and writes them back, so keys come out sorted (go-yaml's
/// natural order: digit runs compare as numbers), numbers as go-yaml formats ints and floats, strings plain where
/// they read back as the same string and quoted where not (single quotes where the plain form would be misread,
/// double quotes where it would resolve to another type — <c>"true"</c>, <c>"1"</c>, timestamps — or needs escapes),
/// strings with line breaks as literal blocks; block sequences under a key are not indented. One difference: go-yaml
/// folds long scalars at 80 columns, we never fold (the same values, longer lines).
/// </summary>
internal static class JsonToYaml
{
    /// <summary>The YAML of a JSON document, or null when <paramref name="json"/> is not JSON.</summary>
    public static byte[]? Convert(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            // our own answers: no deeper than the bodies they came from, with room for the envelope around them
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = BodyLimits.MaxDepth + 16 });
        }
        catch (JsonException)
        {
            return null;
        }
        using (document)
        {
            var yaml = new StringBuilder(json.Length + json.Length / 4);
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Object when HasProperties(root):
                    WriteMapping(yaml, root, 0);
                    break;
                case JsonValueKind.Array when root.GetArrayLength() > 0:
                    WriteSequence(yaml, root, 0);
                    break;
                default:
                    WriteScalarValue(yaml, root, 0);
                    yaml.Append('\n');
                    break;
            }
            return Encoding.UTF8.GetBytes(yaml.ToString());
        }
    }

    private static bool HasProperties(JsonElement obj)
    {
        using var properties = obj.EnumerateObject();
        return properties.MoveNext();
    }

    /// <summary>A non-empty mapping, its keys at column <paramref name="indent"/>; the first key is written where the text
    /// stands (after a sequence's dash), the others on lines of their own. Ends with a line break.</summary>
    private static void WriteMapping(StringBuilder yaml, JsonElement obj, int indent)
    {
        var properties = new List<(string Key, JsonElement Value)>();
        // JSONToYAML reads into a map: a repeated key keeps its last value
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            if (index.TryGetValue(property.Name, out var at)) properties[at] = (property.Name, property.Value);
            else
            {
                index[property.Name] = properties.Count;
                properties.Add((property.Name, property.Value));
            }
        }
        properties.Sort((a, b) => GoYamlRules.CompareKeys(a.Key, b.Key));
        var first = true;
        foreach (var (key, value) in properties)
        {
            if (!first) yaml.Append(' ', indent);
            first = false;
            RuntimeHelpers.EnsureSufficientExecutionStack();
            // libyaml writes a key longer than 128 bytes, or one with a line break, as an explicit ("? ") key
            var simple = Encoding.UTF8.GetByteCount(key) <= 128 && !HasBreak(key);
            if (simple)
            {
                WriteString(yaml, key, indent, isKey: true);
                yaml.Append(':');
            }
            else
            {
                yaml.Append("? ");
                WriteString(yaml, key, indent, isKey: true);
                yaml.Append('\n').Append(' ', indent).Append(':');
            }
            switch (value.ValueKind)
            {
                case JsonValueKind.Object when HasProperties(value):
                    yaml.Append('\n').Append(' ', indent + 2);
                    WriteMapping(yaml, value, indent + 2);
                    break;
                case JsonValueKind.Array when value.GetArrayLength() > 0:
                    // a block sequence in a mapping is not indented ("indentless")
                    yaml.Append('\n').Append(' ', indent);
                    WriteSequence(yaml, value, indent);
                    break;
                default:
                    yaml.Append(' ');
                    WriteScalarValue(yaml, value, indent + 2);
                    yaml.Append('\n');
                    break;
            }
        }
    }

    /// <summary>A non-empty sequence, its dashes at column <paramref name="indent"/>; the first dash where the text
    /// stands. Ends with a line break.</summary>
    private static void WriteSequence(StringBuilder yaml, JsonElement array, int indent)
    {
        var first = true;
        foreach (var item in array.EnumerateArray())
        {
            if (!first) yaml.Append(' ', indent);
            first = false;
            RuntimeHelpers.EnsureSufficientExecutionStack();
            yaml.Append("- ");
            switch (item.ValueKind)
            {
                case JsonValueKind.Object when HasProperties(item):
                    WriteMapping(yaml, item, indent + 2);
                    break;
                case JsonValueKind.Array when item.GetArrayLength() > 0:
                    WriteSequence(yaml, item, indent + 2);
                    break;
                default:
                    WriteScalarValue(yaml, item, indent + 2);
                    yaml.Append('\n');
                    break;
            }
        }
    }

    /// <summary>A scalar, an empty mapping or an empty sequence; <paramref name="blockIndent"/> is the column of a literal
    /// block's lines.</summary>
    private static void WriteScalarValue(StringBuilder yaml, JsonElement value, int blockIndent)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                yaml.Append("{}");
                break;
            case JsonValueKind.Array:
                yaml.Append("[]");
                break;
            case JsonValueKind.String:
                WriteString(yaml, value.GetString()!, blockIndent, isKey: false);
                break;
            case JsonValueKind.Number:
                yaml.Append(Number(value.GetRawText()));
                break;
            case JsonValueKind.True:
                yaml.Append("true");
                break;
            case JsonValueKind.False:
                yaml.Append("false");
                break;
            default:
                yaml.Append("null");
                break;
        }
    }

    /// <summary>A JSON number as go-yaml reads and writes it: an int64 or uint64 in decimal, anything else a float64 in
    /// Go's shortest 'g' form (1 for 1.0, 1e+06 for 1000000.0).</summary>
    internal static string Number(string raw)
    {
        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return integer.ToString(CultureInfo.InvariantCulture);
        if (ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
            return unsigned.ToString(CultureInfo.InvariantCulture);
        // an integer beyond 64 bits is a big.Int to go-yaml, written in full
        if (!raw.AsSpan().ContainsAny('.', 'e', 'E')) return raw;
        var number = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        // beyond float64 go-yaml keeps the text as a string (and quotes it: it looks like a number)
        return double.IsInfinity(number) ? Quoted(raw) : GoFloat(number);
    }

    /// <summary>strconv.FormatFloat(f, 'g', -1, 64): the shortest digits that read back as the value, in %e form when the
    /// exponent is below -4 or from 6 on (Go's shortest %g takes 6 as the precision for that choice), else in %f form.</summary>
    internal static string GoFloat(double value)
    {
        if (value == 0) return double.IsNegative(value) ? "-0" : "0";
        var (digits, exponent) = Digits(Math.Abs(value).ToString("R", CultureInfo.InvariantCulture));
        var sign = value < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 6)
        {
            var mantissa = digits.Length > 1 ? $"{digits[0]}.{digits[1..]}" : digits;
            var e = Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
            return $"{sign}{mantissa}e{(exponent < 0 ? '-' : '+')}{e}";
        }
        var point = exponent + 1; // digits before the decimal point
        var text = point <= 0 ? "0." + new string('0', -point) + digits
            : point >= digits.Length ? digits + new string('0', point - digits.Length)
            : digits[..point] + "." + digits[point..];
        return sign + text;
    }

    /// <summary>The significant digits (no leading or trailing zeros) and decimal exponent of a positive number's "R" text.</summary>
    private static (string Digits, int Exponent) Digits(string text)
    {
        var e = text.IndexOfAny(['E', 'e']);
        var exponent = e < 0 ? 0 : int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? text : text[..e];
        var dot = mantissa.IndexOf('.');
        var integerDigits = dot < 0 ? mantissa.Length : dot;
        var all = mantissa.Replace(".", "");
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0') leading++;
        var significant = all[leading..].TrimEnd('0');
        if (significant.Length == 0) significant = "0";
        return (significant, exponent + integerDigits - 1 - leading);
    }

    private static void WriteString(StringBuilder yaml, string value, int blockIndent, bool isKey)
    {
        var analysis = Analyze(value);
        // go-yaml's stringv: a line feed asks for a literal block, a string that would read back as another type for
        // double quotes, anything else for plain; libyaml then falls back where the asked style cannot hold the text
        if (value.Contains('\n') && !isKey && analysis.BlockAllowed)
        {
            WriteLiteral(yaml, value, blockIndent);
            return;
        }
        if (!value.Contains('\n') && GoYamlRules.ReadsBackAsString(value) && analysis.PlainAllowed)
        {
            yaml.Append(value);
            return;
        }
        if (!value.Contains('\n') && GoYamlRules.ReadsBackAsString(value) && analysis.SingleQuotedAllowed)
        {
            yaml.Append('\'').Append(value.Replace("'", "''")).Append('\'');
            return;
        }
        yaml.Append(Quoted(value));
    }

    private readonly record struct Analysis(bool PlainAllowed, bool SingleQuotedAllowed, bool BlockAllowed);

    /// <summary>libyaml's yaml_emitter_analyze_scalar, for the block context (our documents have no flow collections but
    /// the empty ones).</summary>
    private static Analysis Analyze(string value)
    {
        if (value.Length == 0) return new Analysis(false, true, false);
        bool blockIndicators = false, special = false, lineBreaks = false;
        bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false;
        bool breakSpace = false, spaceBreak = false, previousSpace = false, previousBreak = false;
        if (value.StartsWith("---", StringComparison.Ordinal) || value.StartsWith("...", StringComparison.Ordinal))
            blockIndicators = true;
        var runes = value.EnumerateRunes().ToArray();
        var precededByWhitespace = true;
        for (var i = 0; i < runes.Length; i++)
        {
            var c = runes[i].Value;
            var followedByWhitespace = i + 1 >= runes.Length || IsBlankOrBreak(runes[i + 1].Value);
            if (i == 0)
            {
                switch (c)
                {
                    case '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`':
                        blockIndicators = true;
                        break;
                    case '?' or ':' or '-' when followedByWhitespace:
                        blockIndicators = true;
                        break;
                }
            }
            else if ((c == ':' && followedByWhitespace) || (c == '#' && precededByWhitespace))
            {
                blockIndicators = true;
            }
            if (!IsPrintable(c)) special = true;
            if (IsBreak(c)) lineBreaks = true;
            if (c == ' ')
            {
                if (i == 0) leadingSpace = true;
                if (i == runes.Length - 1) trailingSpace = true;
                if (previousBreak) breakSpace = true;
                previousSpace = true;
                previousBreak = false;
            }
            else if (IsBreak(c))
            {
                if (i == 0) leadingBreak = true;
                if (i == runes.Length - 1) trailingBreak = true;
                if (previousSpace) spaceBreak = true;
                previousBreak = true;
                previousSpace = false;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }
            precededByWhitespace = IsBlankOrBreak(c);
        }
        bool plain = true, single = true, block = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) plain = false;
        if (trailingSpace) block = false;
        if (breakSpace) plain = single = false;
        if (spaceBreak || special) plain = single = block = false;
        if (lineBreaks) plain = false;
        if (blockIndicators) plain = false;
        // breaks other than line feeds (CR, NEL, LS, PS) read differently across YAML versions: only double quotes hold them
        if (lineBreaks) single = false;
        if (value.AsSpan().IndexOfAny('\r', '\u2028', '\u2029') >= 0 || value.Contains('\u0085')) block = false;
        return new Analysis(plain, single, block);
    }

    private static bool IsBreak(int c) => c is '\n' or '\r' or 0x85 or 0x2028 or 0x2029;

    private static bool IsBlankOrBreak(int c) => c is ' ' or '\t' || IsBreak(c);

    private static bool HasBreak(string s) => s.AsSpan().IndexOfAny("\n\r\u0085\u2028\u2029") >= 0;

    /// <summary>libyaml's is_printable (go-yaml's, byte for byte): no characters outside the Basic Multilingual Plane.</summary>
    private static bool IsPrintable(int c) =>
        c == 0x0A || c is >= 0x20 and <= 0x7E || c is >= 0xA0 and <= 0xD7FF || (c is >= 0xE000 and <= 0xFFFD && c != 0xFEFF);

    /// <summary>A literal block (<c>|</c>), its lines at <paramref name="indent"/>, with libyaml's hints: an indentation
    /// indicator when the text starts with a space or break, "-" when it has no final line break, "+" when it has more
    /// than one.</summary>
    private static void WriteLiteral(StringBuilder yaml, string value, int indent)
    {
        yaml.Append('|');
        if (value[0] is ' ' or '\n') yaml.Append('2');
        if (value[^1] != '\n') yaml.Append('-');
        else if (value.Length == 1 || value[^2] == '\n') yaml.Append('+');
        var lines = value.Split('\n');
        // a text ending with a line break ends with an empty "line" that is not one
        var count = value[^1] == '\n' ? lines.Length - 1 : lines.Length;
        for (var i = 0; i < count; i++)
        {
            yaml.Append('\n');
            if (lines[i].Length > 0) yaml.Append(' ', indent).Append(lines[i]);
        }
    }

    /// <summary>libyaml's double-quoted scalar: escapes for the non-printable, the breaks, quote and backslash.</summary>
    internal static string Quoted(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            var c = rune.Value;
            if (IsPrintable(c) && !IsBreak(c) && c != '"' && c != '\\' && c != 0xFEFF)
            {
                quoted.Append(rune.ToString());
                continue;
            }
            quoted.Append('\\');
            switch (c)
            {
                case 0x00: quoted.Append('0'); break;
                case 0x07: quoted.Append('a'); break;
                case 0x08: quoted.Append('b'); break;
                case 0x09: quoted.Append('t'); break;
                case 0x0A: quoted.Append('n'); break;
                case 0x0B: quoted.Append('v'); break;
                case 0x0C: quoted.Append('f'); break;
                case 0x0D: quoted.Append('r'); break;
                case 0x1B: quoted.Append('e'); break;
                case '"': quoted.Append('"'); break;
                case '\\': quoted.Append('\\'); break;
                case 0x85: quoted.Append('N'); break;
                case 0xA0: quoted.Append('_'); break;
                case 0x2028: quoted.Append('L'); break;
                case 0x2029: quoted.Append('P'); break;
                default:
                    quoted.Append(c <= 0xFF ? $"x{c:X2}" : c <= 0xFFFF ? $"u{c:X4}" : $"U{c:X8}");
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
