using Akka.Actor;
using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Catalog;
using Orchestrator.Master.Registry.CustomResources;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Api.CustomResources;
using Orchestrator.Master.Tests.Store;
using Orchestrator.Shared.Api;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.CustomResources;

/// <summary>A follower's descriptions of custom resources, read from its replica of a real ObjectStore (the leader's).</summary>
public sealed class CustomResourceDescriptionMirrorSpec : StoreSpecBase
{
    private readonly ResourceCatalog _follower = BuiltIn.NewCatalog();
    private bool _active = true;

    private (IActorRef Replica, IActorRef Mirror) Start()
    {
        var replica = Sys.ActorOf(StoreReplica.Props(_follower, () => Sys.ActorSelection(Store.Path)));
        var mirror = Sys.ActorOf(CustomResourceDescriptionMirror.Props(replica, _follower, () => _active));
        return (replica, mirror);
    }

    /// <summary>What ReplicaReads does before a forwarded write is answered: the replica caught up, then the mirror.</summary>
    private void CatchUp(IActorRef replica, IActorRef mirror)
    {
        replica.Tell(Orchestrator.Master.Store.CatchUp.Instance);
        ExpectMsg<CaughtUp>();
        mirror.Tell(CustomResourceDescriptionMirror.Sync.Instance);
        ExpectMsg<CustomResourceDescriptionMirror.Synced>();
    }

    private V1CustomResourceDefinition Define()
    {
        var crd = (V1CustomResourceDefinition)Stored(new CreateObject("customresourcedefinitions", CronTabs.Definition()));
        // the leader's controller describes it there
        Catalog.Set(CustomResourceDescriptions.SourceOf(crd.Metadata.Name), CustomResourceDescriptions.From(crd));
        return crd;
    }

    [Fact]
    public void A_definition_written_on_the_leader_is_described_on_the_follower_once_caught_up_and_its_objects_are_read_there()
    {
        var (replica, mirror) = Start();
        CatchUp(replica, mirror);
        Assert.Null(_follower.Current.Find(CronTabs.Group, "v1", CronTabs.Plural));

        Define();
        CatchUp(replica, mirror);
        var v1 = _follower.Current.Find(CronTabs.Group, "v1", CronTabs.Plural);
        Assert.NotNull(v1);
        Assert.NotNull(_follower.Current.Find(CronTabs.Group, "v1beta1", CronTabs.Plural));
        Assert.True(v1!.Namespaced);
        Assert.Equal("crontabs.stable.example.com", v1.StoreName);
        Assert.Equal(["Name", "Spec", "Replicas", "Age"], v1.Printer.Columns.Select(c => c.Name));

        var json = KubeObjects.Serialize(CronTabs.Object("mine"));
        var cron = (CustomObject)KubeObjects.Deserialize(json, typeof(CustomObject));
        cron.Metadata.NamespaceProperty = "default";
        Stored(new CreateObject("crontabs.stable.example.com", cron));
        replica.Tell(new GetObject(new ResourceKey("crontabs.stable.example.com", "default", "mine")));
        Assert.Equal("mine", ExpectMsg<ObjectStored>().Object.Metadata.Name);
    }

    [Fact]
    public void A_definition_that_goes_away_is_no_longer_described()
    {
        var (replica, mirror) = Start();
        var crd = Define();
        CatchUp(replica, mirror);
        Assert.NotNull(_follower.Current.Find(CronTabs.Group, "v1", CronTabs.Plural));
        // the leader's controller removes the cleanup finalizer once the objects are gone: the store deletes it
        var key = new ResourceKey("customresourcedefinitions", null, crd.Metadata.Name);
        Store.Tell(new DeleteObject(key));
        ExpectMsg<object>();
        Store.Tell(new GetObject(key));
        if (ExpectMsg<object>() is ObjectStored { Object: V1CustomResourceDefinition left })
        {
            var deleting = KubeObjects.Clone(left);
            deleting.Metadata.Finalizers = [];
            Store.Tell(new UpdateObject("customresourcedefinitions", deleting));
            ExpectMsg<object>();
        }
        Store.Tell(new GetObject(key));
        Assert.Equal(404, ExpectMsg<StoreFailed>().Error.Code);
        CatchUp(replica, mirror);
        Assert.Null(_follower.Current.Find(CronTabs.Group, "v1", CronTabs.Plural));
    }

    [Fact]
    public void Where_the_control_plane_runs_the_mirror_leaves_the_catalog_to_its_controller()
    {
        _active = false;
        var (replica, mirror) = Start();
        Define();
        CatchUp(replica, mirror);
        Assert.Null(_follower.Current.Find(CronTabs.Group, "v1", CronTabs.Plural));
    }
}
