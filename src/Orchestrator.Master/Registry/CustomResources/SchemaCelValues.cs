using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Orchestrator.Master.Registry.Validation;

namespace Orchestrator.Master.Registry.CustomResources;

/// <summary>
/// A custom object's value as kube's UnstructuredToVal hands it to the schema's CEL rules: by its schema, a string of
/// format <c>date-time</c> or <c>date</c> is a timestamp, <c>duration</c> a duration, <c>byte</c> bytes — the types the
/// rules are type-checked with when the definition is made (<see cref="CelTypes"/>), so <c>self.created &lt;
/// timestamp('…')</c> compares times. A string that does not parse stays a string (format validation refuses it);
/// what the schema does not describe (int-or-string, unknown fields kept) is converted without it.
/// </summary>
internal static partial class SchemaCelValues
{
    public static object? ToCel(JsonNode? node, SchemaNode? schema)
    {
        if (schema is null || schema.IntOrString) return CelRules.ToCel(node);
        return node switch
        {
            JsonObject o => o.ToDictionary(kv => kv.Key, kv => ToCel(kv.Value, schema.Member(kv.Key))),
            JsonArray a => a.Select(item => ToCel(item, schema.Items)).ToList(),
            JsonValue v when schema.Format is { } format && v.TryGetValue<string>(out var text) => Formatted(format, text) ?? text,
            _ => CelRules.ToCel(node),
        };
    }

    private static object? Formatted(string format, string text) => format switch
    {
        "date-time" => DateTimeOffset.TryParseExact(text, SchemaValidation.DateTimeLayouts, CultureInfo.InvariantCulture,
            DateTimeStyles.None, out var time) ? time : null,
        "date" => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        "duration" => GoDuration(text) is { } span ? Duration.FromTimeSpan(span) : null,
        "byte" => text.Length % 4 == 0 && Convert.TryFromBase64String(text, new byte[text.Length], out _)
            ? ByteString.FromBase64(text) : null,
        _ => null,
    };

    /// <summary>Go's time.ParseDuration for the values the schema's duration format admits: "0", or a sign and a
    /// sequence of decimal numbers with units ns, us, µs, ms, s, m, h.</summary>
    private static TimeSpan? GoDuration(string text)
    {
        if (text == "0") return TimeSpan.Zero;
        var match = GoDurationSyntax().Match(text);
        if (!match.Success) return null;
        decimal ticks = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = GoDurationPart().Match(part.Value);
            var perUnit = unit.Groups[2].Value switch
            {
                "ns" => 0.01m, "us" or "µs" => 10m, "ms" => TimeSpan.TicksPerMillisecond, "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute, _ => TimeSpan.TicksPerHour,
            };
            // a number past a duration's range is no duration (decimal arithmetic would overflow before the check)
            if (!decimal.TryParse(unit.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
                || amount > (TimeSpan.MaxValue.Ticks - ticks) / perUnit)
                return null;
            ticks += amount * perUnit;
        }
        var span = TimeSpan.FromTicks((long)decimal.Round(ticks));
        return match.Groups["sign"].Value == "-" ? span.Negate() : span;
    }

    [GeneratedRegex(@"^(?<sign>[-+]?)(?<part>\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+\z")]
    private static partial Regex GoDurationSyntax();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)\z")]
    private static partial Regex GoDurationPart();
}
