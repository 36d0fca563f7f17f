using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Serialization;

namespace Orchestrator.Master.Store.Persistence;

/// <summary>
/// The bytes of one journal or snapshot record: a version byte (1), the CRC-32C of the JSON (little endian) and
/// the JSON. SQLite checks the structure of its pages, not their content, so a flipped byte inside a record would
/// otherwise be replayed as a different object; with the checksum it is a corrupt record, found at start-up.
/// Records written before the checksum existed start with '{' and are read as plain JSON.
/// </summary>
internal static class RecordFrame
{
    private const byte Version = 1;
    private const int HeaderLength = 5;

    public static byte[] Seal(ReadOnlySpan<byte> json)
    {
        var framed = new byte[HeaderLength + json.Length];
        framed[0] = Version;
        BinaryPrimitives.WriteUInt32LittleEndian(framed.AsSpan(1), Crc32C(json));
        json.CopyTo(framed.AsSpan(HeaderLength));
        return framed;
    }

    /// <summary>The JSON of a record; <see cref="SerializationException"/> when the bytes are not an intact record.</summary>
    public static ReadOnlySpan<byte> Open(byte[] bytes)
    {
        if (bytes.Length > 0 && bytes[0] == (byte)'{') return bytes;
        if (bytes.Length < HeaderLength || bytes[0] != Version)
            throw new SerializationException($"not a store record (format byte {(bytes.Length == 0 ? "missing" : bytes[0].ToString())})");
        var json = bytes.AsSpan(HeaderLength);
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(1));
        var actual = Crc32C(json);
        if (expected != actual)
            throw new SerializationException($"checksum mismatch (stored {expected:x8}, computed {actual:x8})");
        return json;
    }

    /// <summary>CRC-32C (Castagnoli), with the processor's CRC instruction where there is one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words) crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        foreach (var b in data[(words.Length * sizeof(ulong))..]) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}
