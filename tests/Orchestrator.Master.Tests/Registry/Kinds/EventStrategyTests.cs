using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public sealed class EventStrategyTests
{
    /// <summary>A write requested through events.k8s.io/v1.</summary>
    private sealed class EventsV1Request : IAdmissionContext
    {
        public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> List(string storeName, string? @namespace = null) => [];

        public string? RequestApiVersion => "events.k8s.io/v1";
    }

    private static Corev1Event Event(string name, string? ns = "default") => new()
    {
        ApiVersion = "v1", Kind = "Event", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        InvolvedObject = new V1ObjectReference { Kind = "Node", Name = "n1" }, Reason = "Ready", Type = "Normal",
    };

    [Fact]
    public void A_core_event_name_needs_only_be_a_path_segment_an_events_k8s_io_name_a_DNS_subdomain()
    {
        Assert.Empty(Strategies.Admit(CoreResources.Events, Event("Node_1.abc")));
        Assert.Contains(Strategies.Admit(CoreResources.Events, Event("a/b")), c => c.Field == "metadata.name");

        var strict = Event("Node_1.abc");
        strict.EventTime = new DateTime(2026, 12, 5, 0, 0, 0, DateTimeKind.Utc);
        (strict.Action, strict.ReportingComponent, strict.ReportingInstance) = ("Check", "example.com/c", "c-0");
        var cause = Assert.Single(Strategies.Admit(CoreResources.Events, strict, context: new EventsV1Request()));
        Assert.Equal("metadata.name", cause.Field);
        Assert.StartsWith("Invalid value: \"Node_1.abc\": a lowercase RFC 1123 subdomain", cause.Message);
    }

    [Fact]
    public void A_cluster_scoped_objects_event_lives_in_default_or_without_eventTime_in_no_namespace()
    {
        Assert.Empty(Strategies.Admit(CoreResources.Events, Event("n1.1")));
        var elsewhere = Strategies.Admit(CoreResources.Events, Event("n1.2", "team-a"));
        Assert.Equal("involvedObject.namespace", Assert.Single(elsewhere).Field);

        var recorded = Event("n1.3", "kube-system");
        recorded.EventTime = new DateTime(2026, 12, 5, 0, 0, 0, DateTimeKind.Utc);
        (recorded.Action, recorded.ReportingComponent, recorded.ReportingInstance) = ("Check", "kubelet", "n1");
        Assert.Empty(Strategies.Admit(CoreResources.Events, recorded));
        recorded.ReportingComponent = "not a qualified name";
        recorded.Reason = new string('r', 129);
        Assert.Equal(["reportingController", "reason"], Strategies.Admit(CoreResources.Events, recorded).Select(c => c.Field));
    }
}
