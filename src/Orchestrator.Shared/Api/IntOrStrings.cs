using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Orchestrator.Shared.Api;

/// <summary>
/// How int-or-string fields (ports, maxSurge, minAvailable …) are read: as Go's intstr.IntOrString.UnmarshalJSON reads
/// them, a string, or else a JSON number that must fit its int32. KubernetesClient's converter takes any int64 — a Service
/// with targetPort 3000000000 was stored, past the port validation, which reads the value as an int32 — and answers a
/// bool or an object with a NotSupportedException whose message names no field. Go's answer for both is
/// "json: cannot unmarshal number 3000000000 into Go value of type int32" (the error of the int32 it unmarshals into).
/// Writing: a value that is the canonical text of an int32 is a number, anything else a string.
/// </summary>
public static class IntOrStrings
{
#pragma warning disable CA2255 // as Quantities: before any object is (de)serialized, in every process using this library
    [ModuleInitializer]
    internal static void Register() => KubernetesJson.AddJsonOptions(options => options.Converters.Insert(0, new Converter()));
#pragma warning restore CA2255

    /// <summary>The value as an int32 when it is one written as Go writes it (no sign but '-', no leading zeros, no spaces).</summary>
    public static bool TryInt(string? value, out int number) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number) &&
        string.Equals(number.ToString(CultureInfo.InvariantCulture), value, StringComparison.Ordinal);

    private static FormatException NotInt32(string what) => new($"json: cannot unmarshal {what} into Go value of type int32");

    private sealed class Converter : JsonConverter<IntOrString>
    {
        public override bool HandleNull => false;

        public override IntOrString? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    return (IntOrString)reader.GetString()!;
                case JsonTokenType.Number when reader.TryGetInt32(out var number):
                    return (IntOrString)number.ToString(CultureInfo.InvariantCulture);
                case JsonTokenType.Number:
                    throw NotInt32("number " + Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan));
                case JsonTokenType.True or JsonTokenType.False:
                    throw NotInt32("bool");
                case JsonTokenType.StartObject:
                    throw NotInt32("object");
                case JsonTokenType.StartArray:
                    throw NotInt32("array");
                default:
                    throw NotInt32("value");
            }
        }

        public override void Write(Utf8JsonWriter writer, IntOrString value, JsonSerializerOptions options)
        {
            if (TryInt(value.Value, out var number)) writer.WriteNumberValue(number);
            else writer.WriteStringValue(value.Value);
        }
    }
}
