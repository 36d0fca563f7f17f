using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// UTF-8 text held as bytes and written as a JSON string, exactly as the same text held as a string is written (the
/// writer's encoder escapes both alike): a record's text in the journal reads the same whichever way it was made, and
/// a string written by an older version reads back as its UTF-8 bytes.
/// </summary>
internal sealed class Utf8Text : JsonConverter<byte[]>
{
    private const int StackLimit = 256;

    public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"expected a string, found {reader.TokenType}");
        if (!reader.HasValueSequence && !reader.ValueIsEscaped)
        {
            // As reading it as a string would, text that is not UTF-8 is refused.
            if (!System.Text.Unicode.Utf8.IsValid(reader.ValueSpan)) throw new JsonException("the string is not valid UTF-8");
            return reader.ValueSpan.ToArray();
        }
        // Unescaped, the text is no longer than as written.
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        byte[]? rented = null;
        Span<byte> buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            int written;
            try
            {
                written = reader.CopyString(buffer);
            }
            catch (InvalidOperationException e)
            {
                throw new JsonException($"the string is not valid text: {e.Message}", e);
            }
            // Text that is not UTF-8 (or an escaped lone surrogate) is refused, as reading it as a string would.
            if (!System.Text.Unicode.Utf8.IsValid(buffer[..written])) throw new JsonException("the string is not valid UTF-8 once unescaped");
            return buffer[..written].ToArray();
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
