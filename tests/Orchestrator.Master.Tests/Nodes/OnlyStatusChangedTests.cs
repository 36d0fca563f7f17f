using k8s.Models;
using Orchestrator.Master.Nodes;
using Orchestrator.Master.Store;
using Xunit;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Nodes;

/// <summary>The node gateway's check that a pod change is its status alone (the node is not sent it again): by
/// members where the objects share them, by their JSON otherwise — the same answer either way.</summary>
public sealed class OnlyStatusChangedTests
{
    private static V1Pod Stored()
    {
        var pod = Pod("p", labels: new Dictionary<string, string> { ["app"] = "a" }, nodeName: "n1",
            owner: new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "o", Uid = "owner-uid", Controller = true });
        pod.Metadata.Uid = "pod-uid";
        pod.Metadata.ResourceVersion = "5";
        pod.Metadata.Annotations = new Dictionary<string, string> { ["note"] = "x" };
        return pod;
    }

    /// <summary>As the store builds a /status write: the stored spec shared, the metadata copied member for member.</summary>
    private static V1Pod StatusWrite(V1Pod stored)
    {
        var after = ShallowCopy.Of(stored);
        after.Metadata = ShallowCopy.Of(stored.Metadata);
        after.Metadata.ResourceVersion = "6";
        after.Status = new V1PodStatus { Phase = "Running" };
        return after;
    }

    [Fact]
    public void A_status_write_sharing_the_stored_parts_is_status_only()
    {
        var stored = Stored();
        var after = StatusWrite(stored);
        Assert.True(NodeGateway.SharedMetadata(stored.Metadata, after.Metadata));
        Assert.True(NodeGateway.OnlyStatusChanged(stored, after));
    }

    [Fact]
    public void Equal_parts_that_are_not_shared_are_compared_by_content()
    {
        var stored = Stored();
        var after = StatusWrite(stored);
        after.Metadata.Labels = new Dictionary<string, string>(stored.Metadata.Labels); // equal, another instance
        after.Spec = KubeObjectsCopy(stored.Spec);
        Assert.False(NodeGateway.SharedMetadata(stored.Metadata, after.Metadata));
        Assert.True(NodeGateway.OnlyStatusChanged(stored, after));
    }

    [Fact]
    public void A_changed_label_a_binding_or_a_changed_spec_is_more_than_status()
    {
        var stored = Stored();

        var relabelled = StatusWrite(stored);
        relabelled.Metadata.Labels = new Dictionary<string, string> { ["app"] = "b" };
        Assert.False(NodeGateway.OnlyStatusChanged(stored, relabelled));

        var generation = StatusWrite(stored);
        generation.Metadata.Generation = 2;
        Assert.False(NodeGateway.SharedMetadata(stored.Metadata, generation.Metadata));
        Assert.False(NodeGateway.OnlyStatusChanged(stored, generation));

        var rebound = StatusWrite(stored);
        rebound.Spec = KubeObjectsCopy(stored.Spec);
        rebound.Spec.NodeName = "n2";
        Assert.False(NodeGateway.OnlyStatusChanged(stored, rebound));

        var edited = StatusWrite(stored);
        edited.Spec = KubeObjectsCopy(stored.Spec);
        edited.Spec.ActiveDeadlineSeconds = 30;
        Assert.False(NodeGateway.OnlyStatusChanged(stored, edited));
    }

    private static V1PodSpec KubeObjectsCopy(V1PodSpec spec) => Orchestrator.Shared.Api.KubeObjects.Clone(spec);
}
