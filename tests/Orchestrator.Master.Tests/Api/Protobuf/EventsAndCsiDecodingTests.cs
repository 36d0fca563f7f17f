using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>events.k8s.io/v1 Event, CSIDriver and CSINode bodies as client-go's protobuf clients (event recorders, CSI
/// driver deployments, the kubelet) send them, hand-encoded with Kubernetes' field numbers.</summary>
public class EventsAndCsiDecodingTests
{
    [Fact]
    public void An_events_v1_event_keeps_its_regarding_note_series_and_deprecated_fields()
    {
        var ev = Fixtures.Decode<Eventsv1Event>(ProtoWriter.Envelope("events.k8s.io/v1", "Event", new ProtoWriter()
            .Message(1, m => m.String(1, "web-1.180").String(3, "default"))
            .Message(2, t => t.Varint(1, 1_764_000_000).Varint(2, 5_000)) // eventTime: a MicroTime
            .Message(3, s => s.Varint(1, 4).Message(2, t => t.Varint(1, 1_764_000_030))) // series
            .String(4, "default-scheduler")
            .String(5, "default-scheduler-node-a")
            .String(6, "Binding")
            .String(7, "Scheduled")
            .Message(8, r => r.String(1, "Pod").String(2, "default").String(3, "web-1").String(4, "uid-1")) // regarding
            .Message(9, r => r.String(1, "Node").String(3, "node-a")) // related
            .String(10, "Successfully assigned default/web-1 to node-a")
            .String(11, "Normal")
            .Message(12, s => s.String(1, "scheduler")) // deprecatedSource
            .Message(13, t => t.Varint(1, 1_764_000_000)) // deprecatedFirstTimestamp
            .Message(14, _ => { }) // deprecatedLastTimestamp: Go's zero time
            .Varint(15, 2))); // deprecatedCount

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime.AddTicks(50), ev.EventTime);
        Assert.Equal(4, ev.Series.Count);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_030).UtcDateTime, ev.Series.LastObservedTime);
        Assert.Equal(("default-scheduler", "default-scheduler-node-a"), (ev.ReportingController, ev.ReportingInstance));
        Assert.Equal(("Binding", "Scheduled", "Normal"), (ev.Action, ev.Reason, ev.Type));
        Assert.Equal(("Pod", "web-1", "uid-1"), (ev.Regarding.Kind, ev.Regarding.Name, ev.Regarding.Uid));
        Assert.Equal(("Node", "node-a"), (ev.Related.Kind, ev.Related.Name));
        Assert.Equal("Successfully assigned default/web-1 to node-a", ev.Note);
        Assert.Equal("scheduler", ev.DeprecatedSource.Component);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime, ev.DeprecatedFirstTimestamp);
        Assert.Null(ev.DeprecatedLastTimestamp);
        Assert.Equal(2, ev.DeprecatedCount);
    }

    [Fact]
    public void A_csi_driver_keeps_its_pointer_booleans_modes_and_token_requests()
    {
        var driver = Fixtures.Decode<V1CSIDriver>(ProtoWriter.Envelope("storage.k8s.io/v1", "CSIDriver", new ProtoWriter()
            .Message(1, m => m.String(1, "ebs.csi.aws.com"))
            .Message(2, s => s
                .Bool(1, false) // attachRequired: a pointer, false is set
                .Bool(2, true) // podInfoOnMount
                .String(3, "Persistent").String(3, "Ephemeral")
                .Bool(4, false) // storageCapacity
                .String(5, "File")
                .Message(6, t => t.String(1, "sts.amazonaws.com").Varint(2, 3600))
                .Message(6, t => t.String(1, ""))
                .Bool(7, true) // requiresRepublish
                .Bool(8, false)))); // seLinuxMount

        var spec = driver.Spec;
        Assert.Equal((false, true, false, true, false),
            (spec.AttachRequired, spec.PodInfoOnMount, spec.StorageCapacity, spec.RequiresRepublish, spec.SeLinuxMount));
        Assert.Equal(["Persistent", "Ephemeral"], spec.VolumeLifecycleModes);
        Assert.Equal("File", spec.FsGroupPolicy);
        Assert.Equal(2, spec.TokenRequests.Count);
        Assert.Equal(("sts.amazonaws.com", 3600L), (spec.TokenRequests[0].Audience, spec.TokenRequests[0].ExpirationSeconds));
        Assert.Null(spec.TokenRequests[1].ExpirationSeconds);
    }

    [Fact]
    public void A_csi_node_keeps_its_drivers_topology_keys_and_allocatable_count()
    {
        var node = Fixtures.Decode<V1CSINode>(ProtoWriter.Envelope("storage.k8s.io/v1", "CSINode", new ProtoWriter()
            .Message(1, m => m.String(1, "node-a"))
            .Message(2, s => s
                .Message(1, d => d.String(1, "ebs.csi.aws.com").String(2, "i-0abc")
                    .String(3, "topology.ebs.csi.aws.com/zone").Message(4, a => a.Varint(1, 0))) // allocatable.count: a pointer
                .Message(1, d => d.String(1, "hostpath.csi.k8s.io").String(2, "node-a")))));

        Assert.Equal(2, node.Spec.Drivers.Count);
        var ebs = node.Spec.Drivers[0];
        Assert.Equal(("ebs.csi.aws.com", "i-0abc", 0), (ebs.Name, ebs.NodeID, ebs.Allocatable.Count));
        Assert.Equal(["topology.ebs.csi.aws.com/zone"], ebs.TopologyKeys);
        Assert.Null(node.Spec.Drivers[1].Allocatable);
    }
}
