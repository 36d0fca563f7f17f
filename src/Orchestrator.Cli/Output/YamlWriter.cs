using System.Text;
using System.Text.Json;

namespace Orchestrator.Cli.Output;

/// <summary>Writes any JSON value as block YAML the way kubectl's -o yaml looks (keys in order, strings quoted when needed).</summary>
internal static class YamlWriter
{
    public static string Write(JsonElement value)
    {
        var text = new StringBuilder();
        WriteValue(text, value, 0, inList: false);
        return text.ToString();
    }

    private static void WriteValue(StringBuilder text, JsonElement value, int indent, bool inList)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var first = true;
                foreach (var property in value.EnumerateObject())
                {
                    if (!(first && inList)) text.Append(' ', indent);
                    first = false;
                    text.Append(Scalar(property.Name)).Append(':');
                    WriteChild(text, property.Value, indent);
                }
                if (first) text.Append(inList ? "{}\n" : "");
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    text.Append(' ', indent).Append("- ");
                    if (item.ValueKind is JsonValueKind.Object && item.EnumerateObject().Any())
                        WriteValue(text, item, indent + 2, inList: true);
                    else if (item.ValueKind is JsonValueKind.Array && item.GetArrayLength() > 0)
                    {
                        text.Append('\n');
                        WriteValue(text, item, indent + 2, inList: false);
                    }
                    else text.Append(ScalarOf(item)).Append('\n');
                }
                break;
            default:
                text.Append(ScalarOf(value)).Append('\n');
                break;
        }
    }

    private static void WriteChild(StringBuilder text, JsonElement value, int indent)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when value.EnumerateObject().Any():
                text.Append('\n');
                WriteValue(text, value, indent + 2, inList: false);
                break;
            case JsonValueKind.Array when value.GetArrayLength() > 0:
                text.Append('\n');
                WriteValue(text, value, indent, inList: false);
                break;
            default:
                text.Append(' ').Append(ScalarOf(value)).Append('\n');
                break;
        }
    }

    private static string ScalarOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "{}",
        JsonValueKind.Array => "[]",
        JsonValueKind.String => Scalar(value.GetString()!),
        JsonValueKind.Null => "null",
        _ => value.GetRawText(),
    };

    // Quote what YAML would read as something else: numbers, booleans, null, leading indicators, ": ", " #".
    private static string Scalar(string s)
    {
        var plain = s.Length > 0
                    && !double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out _)
                    && s is not ("true" or "false" or "null" or "~" or "yes" or "no" or "on" or "off" or "y" or "n")
                    && "-?:,[]{}#&*!|>'\"%@` ".IndexOf(s[0]) < 0
                    && !s.Contains(": ") && !s.Contains(" #") && !s.EndsWith(':') && !s.EndsWith(' ')
                    && !s.Any(char.IsControl)
                    && !(char.IsDigit(s[0]) && s.Contains('-') && s.Contains(':')); // timestamps, quoted like kubectl
        return plain ? s : JsonSerializer.Serialize(s);
    }
}
