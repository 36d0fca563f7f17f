using Google.Protobuf;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>
/// Builds protobuf messages field by field with explicit field numbers, independently of the decoder's
/// .proto files, so a wrong field number in those files makes a test fail. Writes every field the way
/// Kubernetes' Go marshaller does (tag, then value; nested messages length-delimited).
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public ProtoWriter String(int field, string value) =>
        Write(field, WireFormat.WireType.LengthDelimited, o => o.WriteString(value));

    public ProtoWriter Bytes(int field, byte[] value) =>
        Write(field, WireFormat.WireType.LengthDelimited, o => o.WriteBytes(ByteString.CopyFrom(value)));

    public ProtoWriter Varint(int field, long value) =>
        Write(field, WireFormat.WireType.Varint, o => o.WriteInt64(value));

    public ProtoWriter Bool(int field, bool value) => Varint(field, value ? 1 : 0);

    public ProtoWriter Double(int field, double value) =>
        Write(field, WireFormat.WireType.Fixed64, o => o.WriteDouble(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public ProtoWriter Message(int field, Action<ProtoWriter> build)
    {
        var message = new ProtoWriter();
        build(message);
        return Message(field, message);
    }

    /// <summary>One entry of a map&lt;string, string&gt; field.</summary>
    public ProtoWriter Entry(int field, string key, string value) =>
        Message(field, new ProtoWriter().String(1, key).String(2, value));

    /// <summary>One entry of a map&lt;string, Quantity&gt; field.</summary>
    public ProtoWriter QuantityEntry(int field, string key, string quantity) =>
        Message(field, new ProtoWriter().String(1, key).Message(2, new ProtoWriter().String(1, quantity)));

    /// <summary>An IntOrString holding an int.</summary>
    public ProtoWriter Int(int field, int value) =>
        Message(field, new ProtoWriter().Varint(1, 0).Varint(2, value).String(3, ""));

    /// <summary>An IntOrString holding a string.</summary>
    public ProtoWriter Str(int field, string value) =>
        Message(field, new ProtoWriter().Varint(1, 1).Varint(2, 0).String(3, value));

    public byte[] ToArray() => _buffer.ToArray();

    /// <summary>The whole body: magic "k8s\0" and a runtime.Unknown envelope around <paramref name="obj"/>.</summary>
    public static byte[] Envelope(string apiVersion, string kind, ProtoWriter obj, string contentEncoding = "") =>
        Envelope(apiVersion, kind, obj.ToArray(), contentEncoding);

    /// <summary>The whole body around an object's message bytes.</summary>
    public static byte[] Envelope(string apiVersion, string kind, byte[] obj, string contentEncoding = "")
    {
        var unknown = new ProtoWriter()
            .Message(1, t => t.String(1, apiVersion).String(2, kind))
            .Bytes(2, obj)
            .String(3, contentEncoding)
            .String(4, "");
        return [.. "k8s\0"u8.ToArray(), .. unknown.ToArray()];
    }

    private ProtoWriter Write(int field, WireFormat.WireType type, Action<CodedOutputStream> value)
    {
        var output = new CodedOutputStream(_buffer, leaveOpen: true);
        output.WriteTag(field, type);
        value(output);
        output.Flush();
        return this;
    }
}
