using Google.Protobuf;

namespace Orchestrator.Shared.Protocol.Serialization;

/// <summary>The parts of Akka.Remote's classic wire format (WireFormats.proto, ContainerFormats.proto,
/// SystemMessageFormats.proto of the pinned Akka.NET) that the cluster guard reads, decoded field by field before Akka
/// deserializes anything.</summary>
internal static class RemoteWire
{
    /// <summary>A serialized message: which serializer made it, its manifest, its bytes.</summary>
    public sealed record Payload(int SerializerId, string Manifest, ByteString Message);

    /// <summary>A user or system message between two actor systems; paths are full actor paths as sent.</summary>
    public sealed record Envelope(string Recipient, string? Sender, Payload Message);

    /// <summary>One Akka protocol PDU: a handshake (its origin address "system@host:port"), a message container, or a
    /// control PDU the guard lets through (heartbeat, disassociate).</summary>
    public sealed record Pdu(string? HandshakeOrigin, ByteString? Payload);

    /// <summary>An ActorSelection: the enclosed message and the selected path ("/user/node-gateway"); null path when a
    /// pattern is not a plain child name (wildcards, "..").</summary>
    public sealed record Selection(Payload Message, string? Path);

    // AkkaProtocolMessage { bytes payload = 1; AkkaControlMessage instruction = 2; }
    // AkkaControlMessage { CommandType commandType = 1; AkkaHandshakeInfo handshakeInfo = 2; } (ASSOCIATE = 1)
    // AkkaHandshakeInfo { AddressData origin = 1; ... }
    public static Pdu ReadPdu(ByteString bytes)
    {
        ByteString? payload = null;
        string? origin = null;
        foreach (var (number, value) in Fields(bytes))
        {
            if (number == 1) payload = value;
            else if (number == 2 && value is not null)
            {
                ulong command = 0;
                ByteString? handshake = null;
                foreach (var (n, v, scalar) in FieldsWithScalars(value))
                {
                    if (n == 1) command = scalar;
                    else if (n == 2) handshake = v;
                }
                if (command == 1 && handshake is not null)
                    origin = Fields(handshake).Where(f => f.Number == 1 && f.Value is not null).Select(f => Address(f.Value!)).FirstOrDefault();
            }
        }
        return new Pdu(origin, payload);
    }

    // AckAndEnvelopeContainer { AcknowledgementInfo ack = 1; RemoteEnvelope envelope = 2; }
    // RemoteEnvelope { ActorRefData recipient = 1; Payload message = 2; ActorRefData sender = 4; fixed64 seq = 5; }
    /// <summary>The envelope of a message container, or null when it carries only an acknowledgement.</summary>
    public static Envelope? ReadEnvelope(ByteString container)
    {
        var envelope = Fields(container).Where(f => f.Number == 2 && f.Value is not null).Select(f => f.Value!).FirstOrDefault();
        if (envelope is null) return null;
        string recipient = "", sender = "";
        Payload? message = null;
        foreach (var (number, value) in Fields(envelope))
        {
            if (value is null) continue;
            switch (number)
            {
                case 1: recipient = RefPath(value); break;
                case 2: message = ReadPayload(value); break;
                case 4: sender = RefPath(value); break;
            }
        }
        return new Envelope(recipient, sender.Length == 0 ? null : sender, message ?? new Payload(0, "", ByteString.Empty));
    }

    // Payload { bytes message = 1; int32 serializerId = 2; bytes messageManifest = 3; }
    public static Payload ReadPayload(ByteString bytes)
    {
        var id = 0;
        var manifest = "";
        var message = ByteString.Empty;
        foreach (var (number, value, scalar) in FieldsWithScalars(bytes))
        {
            switch (number)
            {
                case 1 when value is not null: message = value; break;
                case 2: id = unchecked((int)scalar); break;
                case 3 when value is not null: manifest = value.ToStringUtf8(); break;
            }
        }
        return new Payload(id, manifest, message);
    }

    // SelectionEnvelope { Payload payload = 1; repeated Selection pattern = 2; }
    // Selection { PatternType type = 1; string matcher = 2; } (CHILD_NAME = 2)
    public static Selection ReadSelection(ByteString bytes)
    {
        Payload? message = null;
        var path = new List<string>();
        var plain = true;
        foreach (var (number, value) in Fields(bytes))
        {
            if (value is null) continue;
            if (number == 1) message = ReadPayload(value);
            else if (number == 2)
            {
                ulong type = 0;
                var matcher = "";
                foreach (var (n, v, scalar) in FieldsWithScalars(value))
                {
                    if (n == 1) type = scalar;
                    else if (n == 2 && v is not null) matcher = v.ToStringUtf8();
                }
                if (type != 2 || matcher.Length == 0) plain = false;
                path.Add(matcher);
            }
        }
        return new Selection(message ?? new Payload(0, "", ByteString.Empty), plain ? "/" + string.Join("/", path) : null);
    }

    /// <summary>The actor path of field <paramref name="field"/> of a system message (WatchData: watchee 1, watcher 2;
    /// DeathWatchNotificationData: actor 1), an ActorRefData.</summary>
    public static string? RefField(ByteString message, int field) =>
        Fields(message).Where(f => f.Number == field && f.Value is not null).Select(f => RefPath(f.Value!)).FirstOrDefault();

    // ActorRefData { string path = 1; }
    private static string RefPath(ByteString bytes) =>
        Fields(bytes).Where(f => f.Number == 1 && f.Value is not null).Select(f => f.Value!.ToStringUtf8()).FirstOrDefault() ?? "";

    // AddressData { string system = 1; string hostname = 2; uint32 port = 3; string protocol = 4; }
    private static string Address(ByteString bytes)
    {
        string system = "", host = "";
        ulong port = 0;
        foreach (var (number, value, scalar) in FieldsWithScalars(bytes))
        {
            switch (number)
            {
                case 1 when value is not null: system = value.ToStringUtf8(); break;
                case 2 when value is not null: host = value.ToStringUtf8(); break;
                case 3: port = scalar; break;
            }
        }
        return $"{system}@{host}:{port}";
    }

    private static IEnumerable<(int Number, ByteString? Value)> Fields(ByteString bytes) =>
        FieldsWithScalars(bytes).Select(f => (f.Number, f.Value));

    /// <summary>Each field: length-delimited ones with their bytes, varints and fixed ones with their value. A malformed
    /// message throws <see cref="InvalidProtocolBufferException"/>.</summary>
    private static List<(int Number, ByteString? Value, ulong Scalar)> FieldsWithScalars(ByteString bytes)
    {
        var fields = new List<(int, ByteString?, ulong)>();
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited: fields.Add((number, input.ReadBytes(), 0)); break;
                case WireFormat.WireType.Varint: fields.Add((number, null, input.ReadUInt64())); break;
                case WireFormat.WireType.Fixed64: fields.Add((number, null, input.ReadFixed64())); break;
                case WireFormat.WireType.Fixed32: fields.Add((number, null, input.ReadFixed32())); break;
                default: input.SkipLastField(); break;
            }
        }
        return fields;
    }
}
