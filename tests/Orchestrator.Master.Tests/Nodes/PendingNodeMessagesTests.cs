using Akka.Actor;
using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Shared.Protocol;
using Xunit;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>What the node gateway holds while it syncs: bounded, the newest state per node and pod.</summary>
public sealed class PendingNodeMessagesTests
{
    private static NodeHeartbeat Beat(string node, string reason) =>
        new(node, new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = reason }] });

    private static PodStatusReported Status(string uid, string phase) => new("n1", "default", "p-" + uid, uid, new V1PodStatus { Phase = phase });

    private static NodeEventReported Event(int i) => new("n1", new Corev1Event { Message = "e" + i });

    [Fact]
    public void The_newest_heartbeat_and_status_replace_older_ones_in_place()
    {
        var pending = new PendingNodeMessages();
        Assert.Null(pending.Add(Beat("n1", "first"), ActorRefs.Nobody));
        Assert.Null(pending.Add(Status("u1", "Pending"), ActorRefs.Nobody));
        Assert.Null(pending.Add(Beat("n1", "second"), ActorRefs.Nobody));
        Assert.Null(pending.Add(Status("u1", "Running"), ActorRefs.Nobody));
        Assert.Null(pending.Add(Beat("n2", "other"), ActorRefs.Nobody));

        var held = pending.Drain().Select(h => h.Message).ToList();
        Assert.Equal(3, held.Count);
        Assert.Equal("second", ((NodeHeartbeat)held[0]).Status.Conditions[0].Reason);
        Assert.Equal("Running", ((PodStatusReported)held[1]).Status.Phase);
        Assert.Equal("n2", ((NodeHeartbeat)held[2]).NodeName);
        Assert.Equal(0, pending.Count);
    }

    [Fact]
    public void Events_and_the_whole_are_bounded_and_what_is_dropped_is_named()
    {
        var pending = new PendingNodeMessages(maxEntries: 5, maxEvents: 2);
        Assert.Null(pending.Add(Event(1), ActorRefs.Nobody));
        Assert.Null(pending.Add(Event(2), ActorRefs.Nobody));
        Assert.Equal("event", pending.Add(Event(3), ActorRefs.Nobody));
        for (var i = 0; i < 3; i++) Assert.Null(pending.Add(Status("u" + i, "Running"), ActorRefs.Nobody));
        Assert.Equal("pod_status", pending.Add(Status("u9", "Running"), ActorRefs.Nobody));
        Assert.Null(pending.Add(Status("u0", "Succeeded"), ActorRefs.Nobody)); // a newer state of a held pod still replaces it
        Assert.Equal(5, pending.Count);
    }
}
