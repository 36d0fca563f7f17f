using Akka.Actor;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Store;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>The Node status writer's batching on its own: a probe stands for the store.</summary>
public sealed class NodeStatusWriterTests(ITestOutputHelper output) : TestKit(output: output)
{
    private static NodeStatusWriter.Write Write(string node, string ready = "True") => new(node,
        new UpdateObject("nodes", new V1Node
        {
            Metadata = new V1ObjectMeta { Name = node },
            Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = ready }] },
        }, "status"));

    /// <summary>Each write of the batch as node=Ready status.</summary>
    private static List<string> Nodes(WriteObjects batch) =>
        batch.Requests.Cast<UpdateObject>().Select(u => $"{u.Object.Metadata.Name}={((V1Node)u.Object).Status.Conditions[0].Status}").ToList();

    private static ObjectsWritten Stored(WriteObjects batch) =>
        new(batch.Requests.Cast<UpdateObject>().Select(u => (object)new ObjectStored(u.Object)).ToList());

    [Fact]
    public void Writes_that_arrive_while_a_batch_is_stored_go_in_the_next_one_per_node_the_newest_in_its_place()
    {
        var store = CreateTestProbe("store");
        var writer = ChildActorOf(NodeStatusWriter.Props(store.Ref, maxBatch: 3));

        writer.Tell(Write("a"));
        var first = store.ExpectMsg<WriteObjects>();
        Assert.Equal(["a=True"], Nodes(first));
        var firstCall = store.LastSender;
        writer.Tell(Write("b"));
        writer.Tell(Write("a", "False")); // node a's next status, while its first is with the store: waits
        writer.Tell(Write("c"));
        writer.Tell(Write("b", "False")); // replaces b's waiting one, in b's place
        writer.Tell(Write("d"));
        store.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // one batch with the store at a time

        firstCall.Tell(Stored(first));
        var second = store.ExpectMsg<WriteObjects>();
        Assert.Equal(["b=False", "a=False", "c=True"], Nodes(second)); // at most the limit, oldest node first
        store.Reply(Stored(second));
        Assert.Equal(["d=True"], Nodes(store.ExpectMsg<WriteObjects>()));
    }

    [Fact]
    public void A_refused_write_is_written_again_after_the_pause_unless_a_newer_status_of_its_node_came()
    {
        var store = CreateTestProbe("store");
        var writer = ChildActorOf(NodeStatusWriter.Props(store.Ref, backoff: () => TimeSpan.FromSeconds(2)));

        writer.Tell(Write("a"));
        var first = store.ExpectMsg<WriteObjects>();
        writer.Tell(Write("b"));
        writer.Tell(Write("c"));
        var second = Assert.IsType<WriteObjects>(Next(store, first));
        Assert.Equal(["b=True", "c=True"], Nodes(second));
        writer.Tell(Write("c", "False")); // c's next status comes while its first is with the store
        // a full queue refuses the whole batch; a 404 (the node deleted meanwhile) is not written again
        store.Reply(new ObjectsWritten([new StoreFailed(StoreErrors.TooManyRequests()), new StoreFailed(StoreErrors.TooManyRequests())]));

        store.ExpectNoMsg(TimeSpan.FromMilliseconds(500)); // backpressure: nothing while the store asked to wait
        var again = store.ExpectMsg<WriteObjects>(TimeSpan.FromSeconds(10));
        Assert.Equal(["c=False", "b=True"], Nodes(again)); // b again; c's newer status instead of its refused one
        store.Reply(new ObjectsWritten([new StoreFailed(new StoreError(404, "NotFound", "gone")), new ObjectStored(((UpdateObject)again.Requests[1]).Object)]));
        store.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    private object Next(Akka.TestKit.TestProbe store, WriteObjects answered)
    {
        store.Reply(Stored(answered));
        return store.ExpectMsg<WriteObjects>();
    }
}
