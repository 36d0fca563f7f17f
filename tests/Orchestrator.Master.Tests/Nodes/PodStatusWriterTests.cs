using Akka.Actor;
using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Store;
using Orchestrator.Shared.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>The writer's batching on its own: a probe stands for the store, the test actor for the gateway.</summary>
public sealed class PodStatusWriterTests(ITestOutputHelper output) : TestKit(output: output)
{
    private static PodStatusWriter.Write Write(string pod, string phase = "Running") => new(
        new PodStatusReported("node1", "default", pod, "uid-" + pod, new V1PodStatus { Phase = phase }),
        new UpdateObject("pods", new V1Pod { Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = "default" }, Status = new V1PodStatus { Phase = phase } },
            "status") { HandedOver = true });

    private static List<string> Pods(WriteObjects batch) => batch.Requests.Cast<UpdateObject>().Select(u => u.Object.Metadata.Name).ToList();

    private static ObjectsWritten Stored(WriteObjects batch) =>
        new(batch.Requests.Cast<UpdateObject>().Select(u => (object)new ObjectStored(u.Object)).ToList());

    [Fact]
    public void Writes_that_arrive_while_a_batch_is_stored_go_together_in_the_next_in_their_order_and_every_answer_goes_back()
    {
        var store = CreateTestProbe("store");
        var writer = ChildActorOf(PodStatusWriter.Props(store.Ref, maxBatch: 3));

        writer.Tell(Write("a"));
        var first = store.ExpectMsg<WriteObjects>();
        Assert.Equal(["a"], Pods(first));
        var firstCall = store.LastSender;
        foreach (var pod in new[] { "b", "c", "d", "e" }) writer.Tell(Write(pod));
        store.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // one batch with the store at a time

        firstCall.Tell(Stored(first));
        Assert.Equal(["a"], ExpectMsg<PodStatusWriter.Written>().Answers.Select(a => a.Report.Name));
        var second = store.ExpectMsg<WriteObjects>();
        Assert.Equal(["b", "c", "d"], Pods(second)); // at most the limit, oldest first
        // one answer refused within the batch (an admission error): every answer goes back, in the batch's order
        store.Reply(new ObjectsWritten([new ObjectStored(((UpdateObject)second.Requests[0]).Object),
            new StoreFailed(new StoreError(422, "Invalid", "no")), new StoreFailed(new StoreError(409, "Conflict", "changed"))]));
        var answers = ExpectMsg<PodStatusWriter.Written>().Answers;
        Assert.Equal(["b", "c", "d"], answers.Select(a => a.Report.Name));
        Assert.Equal([null, 422, 409], answers.Select(a => (a.Answer as StoreFailed)?.Error.Code));
        Assert.Equal(["e"], Pods(store.ExpectMsg<WriteObjects>()));
    }

    [Fact]
    public void After_a_refused_batch_the_next_waits_and_the_refusals_go_back_to_be_written_again()
    {
        var store = CreateTestProbe("store");
        var writer = ChildActorOf(PodStatusWriter.Props(store.Ref, backoff: () => TimeSpan.FromSeconds(2)));

        writer.Tell(Write("a"));
        writer.Tell(Write("b"));
        var first = store.ExpectMsg<WriteObjects>();
        writer.Tell(Write("c"));
        // a full queue refuses the whole batch
        store.Reply(new ObjectsWritten(first.Requests.Select(_ => (object)new StoreFailed(StoreErrors.TooManyRequests())).ToList()));
        var refused = ExpectMsg<PodStatusWriter.Written>();
        Assert.All(refused.Answers, a => Assert.Equal(429, ((StoreFailed)a.Answer).Error.Code));
        writer.Tell(Write("a", "Succeeded")); // the gateway writes the refused one again (merged anew)

        store.ExpectNoMsg(TimeSpan.FromMilliseconds(500)); // backpressure: nothing while the store asked to wait
        var next = store.ExpectMsg<WriteObjects>(TimeSpan.FromSeconds(10));
        Assert.Equal(["b", "c", "a"], Pods(next));
    }

    [Fact]
    public void A_restart_answers_the_writes_it_held_as_failed_so_they_are_written_again()
    {
        var store = CreateTestProbe("store");
        // the one way to make it fail: its backoff throws when a batch is refused
        var writer = ChildActorOf(PodStatusWriter.Props(store.Ref, backoff: () => throw new InvalidOperationException("boom")),
            new OneForOneStrategy(_ => Directive.Restart)); // the gateway's default strategy restarts too

        writer.Tell(Write("a"));
        var first = store.ExpectMsg<WriteObjects>();
        writer.Tell(Write("b"));
        writer.Tell(Write("c"));
        store.Reply(new ObjectsWritten([new StoreFailed(StoreErrors.TooManyRequests())]));
        Assert.Equal(429, ((StoreFailed)ExpectMsg<PodStatusWriter.Written>().Answers.Single().Answer).Error.Code);
        var held = ExpectMsg<PodStatusWriter.Written>().Answers;
        Assert.Equal(["b", "c"], held.Select(a => a.Report.Name));
        Assert.All(held, a => Assert.Equal(500, ((StoreFailed)a.Answer).Error.Code));

        writer.Tell(Write("b", "Succeeded")); // the restarted writer takes the gateway's next write
        Assert.Equal(["b"], Pods(store.ExpectMsg<WriteObjects>()));
    }
}
