using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Registry;
using Xunit;

namespace Orchestrator.Master.Tests.Store;

/// <summary>The ObjectStore's read view: what the API's gets read without asking the actor.</summary>
public sealed class StoreReadViewSpec : StoreSpecBase
{
    private static readonly ResourceKey Key = new("configmaps", "default", "cm");

    private StoreReadView View => StoreReadView.Of(Store) ?? throw new Xunit.Sdk.XunitException("the serving store has no open view");

    [Fact]
    public void Every_acknowledged_write_is_in_the_view_when_its_answer_arrives()
    {
        var created = Stored(new CreateObject("configmaps", Objects.ConfigMap("cm")));
        Assert.Same(created, View.Get(Key));

        var changed = (V1ConfigMap)Objects.ConfigMap("cm");
        changed.Data = new Dictionary<string, string> { ["k"] = "v" };
        var updated = Stored(new UpdateObject("configmaps", changed));
        Assert.Same(updated, View.Get(Key));
        Assert.Equal(updated.Metadata.ResourceVersion, View.Get(Key)!.Metadata.ResourceVersion);

        Stored(new DeleteObject(Key));
        Assert.Null(View.Get(Key));
    }

    [Fact]
    public void A_write_in_a_batch_is_in_the_view_as_the_store_answers_a_get()
    {
        Store.Tell(new WriteObjects([
            new CreateObject("configmaps", Objects.ConfigMap("a")),
            new CreateObject("configmaps", Objects.ConfigMap("b")),
        ]));
        ExpectMsg<ObjectsWritten>();

        foreach (var name in new[] { "a", "b" })
        {
            var key = new ResourceKey("configmaps", "default", name);
            Store.Tell(new GetObject(key));
            Assert.Same(ExpectMsg<ObjectStored>().Object, View.Get(key));
        }
        // cluster-scoped objects are keyed without a namespace, as the store keys them
        Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        Assert.NotNull(View.Get(new ResourceKey("namespaces", null, "team")));
        Assert.Null(View.Get(new ResourceKey("configmaps", "other", "a")));
    }

    private ObjectsListed Listed(string? ns)
    {
        Store.Tell(new ListObjects("configmaps", ns));
        return ExpectMsg<ObjectsListed>();
    }

    [Fact]
    public void A_list_the_store_keeps_is_in_the_view_with_the_stores_resource_version_until_it_changes()
    {
        Stored(new CreateObject("configmaps", Objects.ConfigMap("a")));
        Stored(new CreateObject("configmaps", Objects.ConfigMap("b")));
        var listed = Listed("default");
        var all = Listed(null);
        Assert.Equal(["a", "b"], listed.Items.Select(o => o.Metadata.Name));
        var seen = View.List("configmaps", "default")!;
        Assert.Same(listed.Items, seen.Items);
        Assert.Equal(listed.ResourceVersion, seen.ResourceVersion);

        // a write of another resource moves the version (read-your-writes), not the list
        var team = Stored(new CreateObject("namespaces", Objects.Namespace("team")));
        seen = View.List("configmaps", "default")!;
        Assert.Same(listed.Items, seen.Items);
        Assert.Equal(long.Parse(team.Metadata.ResourceVersion), seen.ResourceVersion);
        Assert.Equal(Listed("default").ResourceVersion, seen.ResourceVersion);

        // a configmap of another namespace changes the list of all namespaces, not this namespace's
        Stored(new CreateObject("configmaps", Objects.ConfigMap("c", "team")));
        Assert.Null(View.List("configmaps", null));
        Assert.Equal(3, Listed(null).Items.Count);
        Assert.NotSame(all.Items, View.List("configmaps", null)!.Items);
        Assert.Same(listed.Items, View.List("configmaps", "default")!.Items);

        var changed = Objects.ConfigMap("a");
        changed.Data = new Dictionary<string, string> { ["k"] = "changed" };
        Stored(new UpdateObject("configmaps", changed));
        Assert.NotSame(listed.Items, View.List("configmaps", "default")?.Items);
        var relisted = Listed("default");
        Assert.Equal("changed", ((V1ConfigMap)relisted.Items[0]).Data["k"]);
        Assert.Same(relisted.Items, View.List("configmaps", "default")!.Items);

        Stored(new DeleteObject(new ResourceKey("configmaps", "default", "b")));
        Assert.NotSame(relisted.Items, View.List("configmaps", "default")?.Items);
        Assert.Equal(["a"], Listed("default").Items.Select(o => o.Metadata.Name));
        Assert.Null(View.List("widgets.example.com", "default"));
    }

    [Fact]
    public void An_unknown_resource_is_left_to_the_store_and_a_stopped_store_has_no_view()
    {
        Stored(new CreateObject("configmaps", Objects.ConfigMap("cm")));
        Assert.Null(View.Get(Key with { Resource = "widgets.example.com" }));

        Watch(Store);
        Sys.Stop(Store);
        ExpectTerminated(Store);
        Assert.Null(StoreReadView.Of(Store));
    }

    [Fact]
    public void A_replica_has_no_view_its_reads_wait_for_the_leader()
    {
        Stored(new CreateObject("configmaps", Objects.ConfigMap("cm")));
        var replica = Sys.ActorOf(StoreReplica.Props(BuiltIn.NewCatalog(), () => Sys.ActorSelection(Store.Path)));
        replica.Tell(new GetObject(Key));
        ExpectMsg<ObjectStored>();

        Assert.Null(StoreReadView.Of(replica));
    }
}
