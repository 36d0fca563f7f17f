using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Store.Persistence;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>What keeps the store's memory and journal bounded: object sizes, event expiry, the watch window.</summary>
public sealed class ObjectStoreLimitsSpec() : StoreSpecBase(new ObjectStoreSettings(MaxObjectBytes: 8 * 1024, EventTtl: TimeSpan.FromSeconds(1)))
{
    [Fact]
    public void An_object_above_the_size_limit_is_refused_as_kube_apiserver_passes_etcds_answer_on()
    {
        var before = CurrentResourceVersion();
        var configMap = Objects.ConfigMap("big");
        configMap.Data["k"] = new string('x', 9 * 1024);

        var error = Failed(new CreateObject("configmaps", configMap));

        Assert.Equal(new StoreError(500, "", "etcdserver: request is too large"), error);
        Assert.Equal(before, CurrentResourceVersion());
    }

    [Fact]
    public void A_configmap_holds_at_most_one_MiB_of_data()
    {
        var configMap = Objects.ConfigMap("huge");
        configMap.Data = new Dictionary<string, string> { ["a"] = new string('a', 512 * 1024) };
        configMap.BinaryData = new Dictionary<string, byte[]> { ["b"] = new byte[512 * 1024 + 1] };

        var error = Failed(new CreateObject("configmaps", configMap));

        Assert.Equal(422, error.Code);
        Assert.Equal("ConfigMap \"huge\" is invalid: []: Too long: may not be more than 1048576 bytes", error.Message);
    }

    [Fact]
    public void A_secret_holds_at_most_one_MiB_of_data_and_its_string_data_is_merged_into_data()
    {
        var secret = new V1Secret
        {
            ApiVersion = "v1", Kind = "Secret",
            Metadata = new V1ObjectMeta { Name = "s", NamespaceProperty = "default" },
            Data = new Dictionary<string, byte[]> { ["a"] = "1"u8.ToArray(), ["b"] = "2"u8.ToArray() },
            StringData = new Dictionary<string, string> { ["b"] = "two", ["c"] = "three" },
        };
        var stored = (V1Secret)Stored(new CreateObject("secrets", secret));
        Assert.Null(stored.StringData);
        Assert.Equal(["1", "two", "three"], new[] { "a", "b", "c" }.Select(k => System.Text.Encoding.UTF8.GetString(stored.Data[k])));

        secret.Metadata.Name = "huge";
        secret.StringData = null;
        secret.Data = new Dictionary<string, byte[]> { ["a"] = new byte[1024 * 1024 + 1] };
        Assert.Equal("Secret \"huge\" is invalid: data: Too long: may not be more than 1048576 bytes",
            Failed(new CreateObject("secrets", secret)).Message);
    }

    [Fact]
    public void Events_are_deleted_when_their_ttl_has_passed()
    {
        var watcher = CreateTestProbe();
        Store.Tell(new WatchObjects("events", "default", null, watcher), watcher);
        watcher.ExpectMsg<WatchStarted>();
        var ev = new Corev1Event
        {
            ApiVersion = "v1", Kind = "Event",
            Metadata = new V1ObjectMeta { Name = "e1", NamespaceProperty = "default" },
            InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = "p", NamespaceProperty = "default" },
            Reason = "Started", Message = "m", Type = "Normal",
        };
        Stored(new CreateObject("events", ev));
        Assert.Equal("ADDED", watcher.ExpectMsg<ObjectChanged>().Type);

        var deleted = watcher.ExpectMsg<ObjectChanged>(TimeSpan.FromSeconds(10));
        Assert.Equal(("DELETED", "e1"), (deleted.Type, deleted.Object.Metadata.Name));
        Assert.Equal(404, Failed(new GetObject(new ResourceKey("events", "default", "e1"))).Code);
        // Other kinds do not expire.
        Stored(new GetObject(new ResourceKey("namespaces", null, "default")));
    }

    [Fact]
    public void The_watch_window_is_bounded_in_bytes_as_well_as_in_changes()
    {
        var hub = new WatchHub(capacity: 100, maxBytes: 1000);
        for (var rv = 1; rv <= 5; rv++)
            hub.Publish(new ObjectChanged("ADDED", "configmaps", Objects.ConfigMap($"c{rv}"), rv), bytes: 400);
        Assert.Equal(2, hub.Count);
        Assert.Equal(800, hub.Bytes);
        Assert.Equal(3, hub.Floor);
        Assert.NotNull(hub.CheckReplayable(2));
        Assert.Null(hub.CheckReplayable(3));

        // The newest change stays even when it alone is above the limit.
        hub.Publish(new ObjectChanged("ADDED", "configmaps", Objects.ConfigMap("c6"), 6), bytes: 5000);
        Assert.Equal(1, hub.Count);
        Assert.Equal(5, hub.Floor);
    }

    [Fact]
    public void The_watch_window_forgets_changes_older_than_its_age()
    {
        var hub = new WatchHub(capacity: 100, maxBytes: 10_000, maxAge: TimeSpan.FromMinutes(5));
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var rv = 1; rv <= 3; rv++)
            hub.Publish(new ObjectChanged("ADDED", "configmaps", Objects.ConfigMap($"c{rv}"), rv), bytes: 100, at: start.AddMinutes(rv));

        Assert.Equal(200, hub.Trim(start.AddMinutes(7.5)));

        Assert.Equal(1, hub.Count);
        Assert.Equal(2, hub.Floor);
        Assert.Equal("too old resource version: 1 (2)", hub.CheckReplayable(1)!.Message);
    }

    [Fact]
    public void Records_carry_a_checksum_and_a_changed_byte_is_detected()
    {
        var bytes = StoreRecordSerializer.Encode(new ObjectPut("configmaps", "{\"a\":1}"u8.ToArray(), 7));
        Assert.Equal(new ObjectPut("configmaps", "{\"a\":1}"u8.ToArray(), 7), StoreRecordSerializer.Decode(bytes, "put"));
        bytes[^3] ^= 1;
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => StoreRecordSerializer.Decode(bytes, "put"));
        Assert.StartsWith("checksum mismatch", error.Message);
        // Records from before the checksum are plain JSON and still read.
        Assert.Equal(new ObjectRemoved("pods", "default", "p", 8),
            StoreRecordSerializer.Decode("{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"p\",\"resourceVersion\":8}"u8.ToArray(), "removed"));
    }
}
