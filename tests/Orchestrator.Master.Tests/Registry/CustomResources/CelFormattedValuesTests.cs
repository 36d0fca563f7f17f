using System.Text.Json.Nodes;
using Orchestrator.Master.Registry.CustomResources;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.CustomResources;

/// <summary>CEL rules see a string of format date-time or date as a timestamp, duration as a duration and byte as bytes,
/// as kube's UnstructuredToVal gives them (and as the rules are type-checked when the definition is made).</summary>
public sealed class CelFormattedValuesTests
{
    private static readonly SchemaNode Schema = SchemaNode.Parse(JsonNode.Parse("""
        {"type":"object","properties":{"spec":{"type":"object",
          "x-kubernetes-validations":[
            {"rule":"self.start < self.end","message":"start must come before end"},
            {"rule":"self.end - self.start <= self.window","message":"the span must fit the window"},
            {"rule":"self.window >= duration('1m')","message":"the window is at least a minute"},
            {"rule":"self.day < timestamp('2030-01-01T00:00:00Z')","message":"day before 2030"},
            {"rule":"self.key.size() == 4","message":"the key is 4 bytes"},
            {"rule":"self.times.all(t, t > self.start)","message":"every time after start"},
            {"rule":"self.label.startsWith('x')","message":"label starts with x"}],
          "properties":{
            "start":{"type":"string","format":"date-time"},
            "end":{"type":"string","format":"date-time"},
            "window":{"type":"string","format":"duration"},
            "day":{"type":"string","format":"date"},
            "key":{"type":"string","format":"byte"},
            "times":{"type":"array","items":{"type":"string","format":"date-time"}},
            "label":{"type":"string"}}}}}
        """)!.AsObject());

    private static List<string> Validate(string spec) =>
        SchemaValidation.Validate(JsonNode.Parse($$"""{"spec":{{spec}}}""")!.AsObject(), Schema, "", null, celRules: true)
            .Select(c => c.Message).ToList();

    [Fact]
    public void Formatted_strings_are_compared_as_times_durations_and_bytes()
    {
        Assert.Empty(Validate("""
            {"start":"2026-01-01T10:00:00Z","end":"2026-01-01T11:30:00+00:00","window":"2h","day":"2026-12-07",
             "key":"AAECAw==","times":["2026-01-01T10:00:01.5Z"],"label":"x1"}
            """));

        var causes = Validate("""
            {"start":"2026-01-01T12:00:00Z","end":"2026-01-01T11:00:00Z","window":"30s","day":"2031-01-01",
             "key":"AAE=","times":["2025-12-31T23:59:59Z"],"label":"x"}
            """);
        Assert.Equal(
            ["start must come before end", "the window is at least a minute", "day before 2030", "the key is 4 bytes",
             "every time after start"],
            causes.Select(c => c[(c.IndexOf("\": ", StringComparison.Ordinal) + 3)..]));
    }

    [Fact]
    public void The_span_of_two_times_is_a_duration()
    {
        var causes = Validate("""
            {"start":"2026-01-01T10:00:00Z","end":"2026-01-01T13:00:00Z","window":"1h30m","day":"2026-01-01",
             "key":"AAECAw==","times":[],"label":"x"}
            """);
        Assert.Equal("the span must fit the window", Assert.Single(causes)[(Assert.Single(causes).IndexOf("\": ", StringComparison.Ordinal) + 3)..]);
    }

    [Fact]
    public void A_duration_past_its_range_stays_a_string_and_validation_answers()
    {
        // decimal overflowed on these before (an exception in the store's validation)
        foreach (var window in new[] { "99999999999999999999999999999h", "9999999999999999999999999999999999999999s" })
        {
            var causes = Validate($$"""
                {"start":"2026-01-01T10:00:00Z","end":"2026-01-01T11:00:00Z","window":"{{window}}","day":"2026-01-01",
                 "key":"AAECAw==","times":[],"label":"x"}
                """);
            Assert.NotEmpty(causes);
        }
    }
}
