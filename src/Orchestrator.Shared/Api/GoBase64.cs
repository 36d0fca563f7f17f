using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;

namespace Orchestrator.Shared.Api;

/// <summary>
/// Where Go's base64.StdEncoding stops decoding a text (its CorruptInputError offset): the first byte that is not of
/// the alphabet, misplaced or missing padding, or text after the padding. Carriage returns and newlines are skipped,
/// as Go skips them. Null when Go decodes the text. Byte fields (a Secret's data) are read through it, so what Go
/// refuses is refused with Go's message ("illegal base64 data at input byte 2" for "YW Jj", which .NET's decoder, skipping
/// the space, would take) and what Go takes is taken (.NET refuses the newlines Go skips).
/// </summary>
internal static class GoBase64
{
#pragma warning disable CA2255 // as MicroTimes: before any object is (de)serialized, in every process using this library
    [ModuleInitializer]
    internal static void Register() => KubernetesJson.AddJsonOptions(options => options.Converters.Insert(0, new Converter()));
#pragma warning restore CA2255

    public static byte[] Decode(string text)
    {
        if (CorruptAt(text) is { } offset) throw new FormatException($"illegal base64 data at input byte {offset}");
        return Convert.FromBase64String(text.Contains('\r') || text.Contains('\n') ? text.Replace("\r", "").Replace("\n", "") : text);
    }

    private sealed class Converter : JsonConverter<byte[]>
    {
        public override bool HandleNull => false;

        public override byte[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? Decode(reader.GetString()!)
                : throw new JsonException($"cannot unmarshal {reader.TokenType} into []uint8");

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) => writer.WriteBase64StringValue(value);
    }

    private static bool IsAlphabet(char c) => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '+' or '/';

    private static bool IsNewline(char c) => c is '\r' or '\n';

    public static int? CorruptAt(string src)
    {
        var si = 0;
        while (si < src.Length)
        {
            var j = 0;
            while (j < 4)
            {
                if (si == src.Length)
                {
                    if (j == 0) return null;
                    return si - j; // a quantum cut short: Go's standard encoding wants its padding
                }
                var c = src[si++];
                if (IsAlphabet(c))
                {
                    j++;
                    continue;
                }
                if (IsNewline(c)) continue;
                if (c != '=') return si - 1;
                // padding: only after two or three characters of a quantum
                if (j is 0 or 1) return si - 1;
                if (j == 2)
                {
                    while (si < src.Length && IsNewline(src[si])) si++;
                    if (si == src.Length) return src.Length;
                    if (src[si] != '=') return si - 1;
                    si++;
                }
                while (si < src.Length && IsNewline(src[si])) si++;
                return si < src.Length ? si : null;
            }
        }
        return null;
    }
}
