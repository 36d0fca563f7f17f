using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>PersistentVolumeClaim, PodTemplate, Endpoints and core/v1 Event bodies as client-go's protobuf clients
/// (volume and endpoints controllers, event recorders) send them, hand-encoded with Kubernetes' field numbers.</summary>
public class CoreKindsDecodingTests
{
    [Fact]
    public void A_claim_keeps_its_spec_and_the_status_the_volume_controller_writes()
    {
        var claim = Fixtures.Decode<V1PersistentVolumeClaim>(ProtoWriter.Envelope("v1", "PersistentVolumeClaim", new ProtoWriter()
            .Message(1, m => m.String(1, "data-db-0").String(3, "default"))
            .Message(2, s => s
                .String(1, "ReadWriteOnce").String(1, "ReadOnlyMany") // accessModes
                .Message(2, r => r.QuantityEntry(1, "storage", "2Gi").QuantityEntry(2, "storage", "1Gi")) // resources
                .String(3, "pv-1") // volumeName
                .Message(4, sel => sel.Entry(1, "tier", "fast")) // selector
                .String(5, "standard") // storageClassName
                .String(6, "Block") // volumeMode
                .Message(7, d => d.String(2, "VolumeSnapshot").String(3, "snap"))) // dataSource (apiGroup unset)
            .Message(3, st => st
                .String(1, "Bound") // phase
                .String(2, "ReadWriteOnce") // accessModes
                .QuantityEntry(3, "storage", "2Gi") // capacity
                .Message(4, c => c.String(1, "Resizing").String(2, "True").Message(4, t => t.Varint(1, 1_764_000_000)))
                .QuantityEntry(5, "storage", "2Gi") // allocatedResources
                .Entry(7, "storage", "ControllerResizeInProgress") // allocatedResourceStatuses
                .String(8, "") // currentVolumeAttributesClassName: a pointer, "" is set
                .Message(9, mv => mv.String(1, "gold").String(2, "InProgress")))));

        var spec = claim.Spec;
        Assert.Equal(["ReadWriteOnce", "ReadOnlyMany"], spec.AccessModes);
        Assert.Equal(("2Gi", "1Gi"), (spec.Resources.Limits["storage"].ToString(), spec.Resources.Requests["storage"].ToString()));
        Assert.Equal(("pv-1", "standard", "Block"), (spec.VolumeName, spec.StorageClassName, spec.VolumeMode));
        Assert.Equal("fast", spec.Selector.MatchLabels["tier"]);
        Assert.Equal(("VolumeSnapshot", "snap", null), (spec.DataSource.Kind, spec.DataSource.Name, spec.DataSource.ApiGroup));
        var status = claim.Status;
        Assert.Equal("Bound", status.Phase);
        Assert.Equal(["ReadWriteOnce"], status.AccessModes);
        Assert.Equal("2Gi", status.Capacity["storage"].ToString());
        Assert.Equal("2Gi", status.AllocatedResources["storage"].ToString());
        Assert.Equal("ControllerResizeInProgress", status.AllocatedResourceStatuses["storage"]);
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("Resizing", "True"), (condition.Type, condition.Status));
        Assert.Null(condition.LastProbeTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime, condition.LastTransitionTime);
        Assert.Equal("", status.CurrentVolumeAttributesClassName);
        Assert.Equal(("gold", "InProgress"), (status.ModifyVolumeStatus.TargetVolumeAttributesClassName, status.ModifyVolumeStatus.Status));
    }

    [Fact]
    public void A_pod_template_keeps_its_template()
    {
        var template = Fixtures.Decode<V1PodTemplate>(ProtoWriter.Envelope("v1", "PodTemplate", new ProtoWriter()
            .Message(1, m => m.String(1, "tpl"))
            .Message(2, t => t
                .Message(1, m => m.Entry(11, "app", "web"))
                .Message(2, s => s.Message(2, c => c.String(1, "c").String(2, "nginx")).String(10, "node-a"))))); // containers, nodeName

        Assert.Equal(("v1", "PodTemplate", "tpl"), (template.ApiVersion, template.Kind, template.Metadata.Name));
        Assert.Equal("web", template.Template.Metadata.Labels["app"]);
        Assert.Equal("nginx", Assert.Single(template.Template.Spec.Containers).Image);
        Assert.Equal("node-a", template.Template.Spec.NodeName);
    }

    [Fact]
    public void Endpoints_keep_ready_and_not_ready_addresses_and_ports()
    {
        var endpoints = Fixtures.Decode<V1Endpoints>(ProtoWriter.Envelope("v1", "Endpoints", new ProtoWriter()
            .Message(1, m => m.String(1, "web").String(3, "default"))
            .Message(2, subset => subset
                .Message(1, a => a.String(1, "10.244.0.7")
                    .Message(2, r => r.String(1, "Pod").String(2, "default").String(3, "web-1").String(4, "uid-1"))
                    .String(3, "web-1").String(4, "node-a"))
                .Message(2, a => a.String(1, "10.244.0.8").String(4, "")) // nodeName: a pointer, "" is set
                .Message(3, p => p.String(1, "http").Varint(2, 8080).String(3, "TCP").String(4, "kubernetes.io/h2c")))));

        var subset = Assert.Single(endpoints.Subsets);
        var ready = Assert.Single(subset.Addresses);
        Assert.Equal(("10.244.0.7", "web-1", "node-a"), (ready.Ip, ready.Hostname, ready.NodeName));
        Assert.Equal(("Pod", "web-1", "uid-1"), (ready.TargetRef.Kind, ready.TargetRef.Name, ready.TargetRef.Uid));
        var notReady = Assert.Single(subset.NotReadyAddresses);
        Assert.Equal(("10.244.0.8", ""), (notReady.Ip, notReady.NodeName));
        Assert.Null(notReady.TargetRef);
        var port = Assert.Single(subset.Ports);
        Assert.Equal(("http", 8080, "TCP", "kubernetes.io/h2c"), (port.Name, port.Port, port.Protocol, port.AppProtocol));
    }

    [Fact]
    public void An_event_keeps_its_object_source_times_count_series_and_reporter()
    {
        var ev = Fixtures.Decode<Corev1Event>(ProtoWriter.Envelope("v1", "Event", new ProtoWriter()
            .Message(1, m => m.String(1, "web-1.17f").String(3, "default"))
            .Message(2, o => o.String(1, "Pod").String(2, "default").String(3, "web-1").String(5, "v1").String(7, "spec.containers{c}"))
            .String(3, "Pulled")
            .String(4, "Successfully pulled image")
            .Message(5, s => s.String(1, "kubelet").String(2, "node-a"))
            .Message(6, t => t.Varint(1, 1_764_000_000))
            .Message(7, t => t.Varint(1, 1_764_000_060))
            .Varint(8, 3)
            .String(9, "Normal")
            .Message(10, t => t.Varint(1, 1_764_000_060).Varint(2, 123_456_000)) // eventTime: a MicroTime
            .Message(11, s => s.Varint(1, 2).Message(2, t => t.Varint(1, 1_764_000_061))) // series
            .String(12, "Pulling")
            .Message(13, r => r.String(1, "Node").String(3, "node-a")) // related
            .String(14, "kubelet")
            .String(15, "node-a")));

        Assert.Equal(("Pod", "web-1", "v1", "spec.containers{c}"), (ev.InvolvedObject.Kind, ev.InvolvedObject.Name, ev.InvolvedObject.ApiVersion,
            ev.InvolvedObject.FieldPath));
        Assert.Equal(("Pulled", "Successfully pulled image", "Normal", 3), (ev.Reason, ev.Message, ev.Type, ev.Count));
        Assert.Equal(("kubelet", "node-a"), (ev.Source.Component, ev.Source.Host));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime, ev.FirstTimestamp);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_060).UtcDateTime, ev.LastTimestamp);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_060).UtcDateTime.AddTicks(1_234_560), ev.EventTime);
        Assert.Equal(2, ev.Series.Count);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_061).UtcDateTime, ev.Series.LastObservedTime);
        Assert.Equal(("Pulling", "Node", "node-a"), (ev.Action, ev.Related.Kind, ev.Related.Name));
        Assert.Equal(("kubelet", "node-a"), (ev.ReportingComponent, ev.ReportingInstance));
    }

    [Fact]
    public void An_event_without_event_time_or_series_has_neither()
    {
        var ev = Fixtures.Decode<Corev1Event>(ProtoWriter.Envelope("v1", "Event", new ProtoWriter()
            .Message(1, m => m.String(1, "e").String(3, "default"))
            .Message(2, o => o.String(1, "Pod").String(3, "web-1"))
            .String(3, "Started")
            .Message(10, _ => { }))); // eventTime: Go's zero MicroTime, as client-go sends it

        Assert.Null(ev.EventTime);
        Assert.Null(ev.Series);
        Assert.Null(ev.Related);
    }
}
