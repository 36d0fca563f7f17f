using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>A write's answer carries the text its journal record holds, which is the answered object's serialization when
/// the answer arrives (the API encodes its answer from it); no text where nothing was stored.</summary>
public class StoredJsonSpec() : StoreSpecBase(new ObjectStoreSettings(SnapshotEvery: 1000, WatchWindow: 50))
{
    private ObjectStored Answer(object command)
    {
        Store.Tell(command);
        return ExpectMsg<ObjectStored>();
    }

    private static string Text(ObjectStored stored) => System.Text.Encoding.UTF8.GetString(stored.Json!);

    [Fact]
    public void Creates_and_updates_answer_with_the_stored_objects_text()
    {
        var created = Answer(new CreateObject("configmaps", Objects.ConfigMap("a")));
        Assert.NotNull(created.Json);
        Assert.Equal(KubeObjects.Serialize(created.Object), Text(created));
        Assert.Contains($"\"resourceVersion\":\"{created.Object.Metadata.ResourceVersion}\"", Text(created));

        var handedOver = Answer(new CreateObject("pods", Objects.Pod("p")) { HandedOver = true });
        Assert.Equal(KubeObjects.Serialize(handedOver.Object), Text(handedOver));

        var update = (V1ConfigMap)KubeObjects.Clone(created.Object);
        update.Data["k"] = "changed";
        var updated = Answer(new UpdateObject("configmaps", update));
        Assert.Equal(KubeObjects.Serialize(updated.Object), Text(updated));
        Assert.Contains("changed", Text(updated));

        // and the stored object is the one answered, with that text
        Store.Tell(new GetObject(new ResourceKey("configmaps", "default", "a")));
        var got = ExpectMsg<ObjectStored>();
        Assert.Same(updated.Object, got.Object);
        Assert.Null(got.Json);
    }

    [Fact]
    public void A_dry_run_and_an_unchanged_update_carry_no_text()
    {
        var dry = Answer(new CreateObject("configmaps", Objects.ConfigMap("d"), DryRun: true));
        Assert.Null(dry.Json);

        var created = Answer(new CreateObject("configmaps", Objects.ConfigMap("u")));
        var same = Answer(new UpdateObject("configmaps", KubeObjects.Clone(created.Object)));
        Assert.Equal(created.Object.Metadata.ResourceVersion, same.Object.Metadata.ResourceVersion);
        Assert.Null(same.Json);
    }

    [Fact]
    public void A_watched_put_carries_its_journal_text_and_a_deletion_none()
    {
        var watcher = CreateTestProbe();
        Store.Tell(new WatchObjects("configmaps", null, null, watcher), watcher);
        watcher.ExpectMsg<WatchStarted>();

        var created = Answer(new CreateObject("configmaps", Objects.ConfigMap("w")));
        var added = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal("ADDED", added.Type);
        Assert.Same(created.Json, added.Json);
        Assert.Equal(KubeObjects.Serialize(added.Object), System.Text.Encoding.UTF8.GetString(added.Json!));

        Store.Tell(new DeleteObject(new ResourceKey("configmaps", "default", "w")));
        ExpectMsg<object>();
        var deleted = watcher.ExpectMsg<ObjectChanged>();
        Assert.Equal("DELETED", deleted.Type);
        Assert.Null(deleted.Json);
    }
}
