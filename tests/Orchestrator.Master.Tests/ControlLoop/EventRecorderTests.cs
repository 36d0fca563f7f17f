using Akka.TestKit.Xunit2;
using k8s.Models;
using Orchestrator.Master.ControlLoop;
using Orchestrator.Master.Store;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.ControlLoop;

public sealed class EventRecorderTests : TestKit
{
    [Fact]
    public void An_event_names_and_describes_the_object_it_is_about()
    {
        var store = CreateTestProbe();
        var recorder = new EventRecorder(store, "deployment-controller");
        var d = Deployment("webapp1", 1, "webapp1");
        d.Metadata.Uid = "d-uid";
        d.Metadata.ResourceVersion = "42";

        recorder.Record(d, EventRecorder.Normal, "ScalingReplicaSet", "Scaled up replica set webapp1-abc from 0 to 1", TestActor);

        var ev = (Corev1Event)store.ExpectMsg<CreateObject>(c => c.Resource == "events").Object;
        Assert.Matches(@"^webapp1\.[0-9a-f]{16}$", ev.Metadata.Name);
        Assert.Equal("default", ev.Metadata.NamespaceProperty);
        Assert.Equal(("apps/v1", "Deployment", "default", "webapp1", "d-uid", "42"),
            (ev.InvolvedObject.ApiVersion, ev.InvolvedObject.Kind, ev.InvolvedObject.NamespaceProperty, ev.InvolvedObject.Name,
                ev.InvolvedObject.Uid, ev.InvolvedObject.ResourceVersion));
        Assert.Equal(("Normal", "ScalingReplicaSet", "deployment-controller", "deployment-controller", 1),
            (ev.Type, ev.Reason, ev.Source.Component, ev.ReportingComponent, ev.Count ?? 0));
        Assert.NotNull(ev.FirstTimestamp);
        Assert.Equal(ev.FirstTimestamp, ev.LastTimestamp);
    }

    [Fact]
    public void A_repeated_event_bumps_the_count_of_the_first()
    {
        var store = CreateTestProbe();
        var recorder = new EventRecorder(store, "default-scheduler");
        var pod = Pod("web-1");
        pod.Metadata.Uid = "p-uid";

        recorder.Record(pod, EventRecorder.Warning, "FailedScheduling", "0/1 nodes are available", TestActor);
        recorder.Record(pod, EventRecorder.Warning, "FailedScheduling", "0/1 nodes are available", TestActor);

        var first = (Corev1Event)store.ExpectMsg<CreateObject>().Object;
        var repeat = (Corev1Event)store.ExpectMsg<UpdateObject>().Object;
        Assert.Equal((first.Metadata.Name, 2), (repeat.Metadata.Name, repeat.Count ?? 0));
        Assert.Null(repeat.Metadata.ResourceVersion);
    }
}
