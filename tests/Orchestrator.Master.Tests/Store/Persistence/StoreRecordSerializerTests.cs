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
        var put = new ObjectPut("pods", "{\"metadata\":{\"name\":\"p\"}}", 7);
        Assert.Equal(put, RoundTrip(put));
        var removed = new ObjectRemoved("pods", "default", "p", 8);
        Assert.Equal(removed, RoundTrip(removed));
        var snapshot = RoundTrip(new StoreSnapshot([new SnapshotObject("pods", "{}")], 9));
        Assert.Equal(9, snapshot.ResourceVersion);
        Assert.Equal(new SnapshotObject("pods", "{}"), Assert.Single(snapshot.Objects));
    }
}
