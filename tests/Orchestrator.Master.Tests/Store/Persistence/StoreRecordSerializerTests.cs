using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Orchestrator.Master.Store.Persistence;
using Xunit;

namespace Orchestrator.Master.Tests.Store.Persistence;

public class StoreRecordSerializerTests : TestKit
{
    private readonly StoreRecordSerializer _serializer;

    public StoreRecordSerializerTests() : base(StoreRecordSerializer.Hocon) =>
        _serializer = (StoreRecordSerializer)Sys.Serialization.FindSerializerForType(typeof(ObjectPut));

    private T RoundTrip<T>(T record) where T : notnull =>
        (T)_serializer.FromBinary(_serializer.ToBinary(record), _serializer.Manifest(record));

    [Fact]
    public void Records_are_bound_to_the_store_serializer_and_round_trip()
    {
        var put = new ObjectPut("pods", "{\"metadata\":{\"name\":\"p\"}}"u8.ToArray(), 7);
        Assert.Equal(put, RoundTrip(put));
        var removed = new ObjectRemoved("pods", "default", "p", 8);
        Assert.Equal(removed, RoundTrip(removed));
        var snapshot = RoundTrip(new StoreSnapshot([new SnapshotObject("pods", "{}")], 9));
        Assert.Equal(9, snapshot.ResourceVersion);
        Assert.Equal(new SnapshotObject("pods", "{}"), Assert.Single(snapshot.Objects));
    }

    /// <summary>A put record as versions that carried the text as a UTF-16 string wrote it: the same record shape
    /// serialized with the serializer's options (JSON's web defaults), then framed.</summary>
    internal static byte[] EncodedAsString(string resource, string json, long resourceVersion) =>
        RecordFrame.Seal(JsonSerializer.SerializeToUtf8Bytes(new StringPut(resource, json, resourceVersion), new JsonSerializerOptions(JsonSerializerDefaults.Web)));

    private sealed record StringPut(string Resource, string Json, long ResourceVersion);

    public static TheoryData<string> Texts() =>
    [
        "{}",
        JournalFileSpec.AwkwardText,
        Orchestrator.Shared.Api.KubeObjects.Serialize(new k8s.Models.V1ConfigMap
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "c", Annotations = new Dictionary<string, string> { ["a"] = JournalFileSpec.AwkwardText } },
            Data = new Dictionary<string, string> { ["t"] = JournalFileSpec.AwkwardText + "\u0001\u007f\u2028" },
        }),
    ];

    /// <summary>The text is carried as UTF-8 but the journal's bytes are those the string made: a record reads the same
    /// in either version, and an old record reads back as the UTF-8 of its string.</summary>
    [Theory]
    [MemberData(nameof(Texts))]
    public void A_put_is_stored_byte_for_byte_as_its_text_as_a_string_was_and_reads_back(string text)
    {
        var old = EncodedAsString("pods", text, 42);
        Assert.Equal(old, StoreRecordSerializer.Encode(new ObjectPut("pods", Encoding.UTF8.GetBytes(text), 42)));
        var read = Assert.IsType<ObjectPut>(StoreRecordSerializer.Decode(old, "put"));
        Assert.Equal(text, Encoding.UTF8.GetString(read.Json));
        Assert.Equal(Encoding.UTF8.GetBytes(text), read.Json);
        Assert.Equal(42, read.ResourceVersion);
    }

    [Fact]
    public void A_record_whose_text_is_no_string_or_no_text_is_refused()
    {
        Assert.ThrowsAny<JsonException>(() => StoreRecordSerializer.Decode(RecordFrame.Seal("{\"resource\":\"pods\",\"json\":5,\"resourceVersion\":1}"u8), "put"));
        // an escaped lone surrogate: no text (nor, before, a string)
        Assert.ThrowsAny<Exception>(() => StoreRecordSerializer.Decode(RecordFrame.Seal("{\"resource\":\"pods\",\"json\":\"a\\ud800b\",\"resourceVersion\":1}"u8), "put"));
        // bytes that are not UTF-8
        var invalid = Encoding.UTF8.GetBytes("{\"resource\":\"pods\",\"json\":\"a?b\",\"resourceVersion\":1}");
        invalid[Array.IndexOf(invalid, (byte)'?')] = 0xC3;
        Assert.ThrowsAny<Exception>(() => StoreRecordSerializer.Decode(RecordFrame.Seal(invalid), "put"));
    }

    [Fact]
    public void Puts_are_equal_by_their_texts_content()
    {
        Assert.Equal(new ObjectPut("pods", "{}"u8.ToArray(), 1), new ObjectPut("pods", "{}"u8.ToArray(), 1));
        Assert.Equal(new ObjectPut("pods", "{}"u8.ToArray(), 1).GetHashCode(), new ObjectPut("pods", "{}"u8.ToArray(), 1).GetHashCode());
        Assert.NotEqual(new ObjectPut("pods", "{}"u8.ToArray(), 1), new ObjectPut("pods", "{ }"u8.ToArray(), 1));
        Assert.NotEqual(new ObjectPut("pods", "{}"u8.ToArray(), 1), new ObjectPut("pods", "{}"u8.ToArray(), 2));
    }
}
