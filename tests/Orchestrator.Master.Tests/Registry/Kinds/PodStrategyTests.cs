using k8s;
using k8s.Models;
using Orchestrator.Master.Registry.Kinds.Apps;
using Orchestrator.Master.Registry.Kinds.Core;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Kinds;

public sealed class PodAdmissionTests
{
    private static V1Pod Pod(string image = "a", string? node = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
        Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Image = image }] },
    };

    private static List<StoreErrorCause> Update(V1Pod old, V1Pod next)
    {
        var causes = new List<StoreErrorCause>();
        causes.AddRange(Strategies.Admit(CoreResources.Pods, old));
        causes.AddRange(Strategies.Admit(CoreResources.Pods, next, old));
        return causes;
    }

    [Fact]
    public void Image_and_binding_to_a_node_may_change() => Assert.Empty(Update(Pod(), Pod("b", node: "n1")));

    [Fact]
    public void Other_spec_changes_are_forbidden()
    {
        var next = Pod();
        next.Spec.Containers[0].Args = ["x"];
        var cause = Assert.Single(Update(Pod(), next));
        Assert.Equal(("spec", "FieldValueForbidden"), (cause.Field, cause.Reason));
    }

    [Fact]
    public void A_replace_without_priority_keeps_the_stored_priority()
    {
        var old = Pod();
        Assert.Empty(Strategies.Admit(CoreResources.Pods, old));
        Assert.Equal((0, "PreemptLowerPriority"), (old.Spec.Priority, old.Spec.PreemptionPolicy));
        // kubectl replace sends the manifest with the stored resourceVersion: an update, without the fields admission set
        var next = Pod("b");
        next.Metadata.ResourceVersion = "7";

        Assert.Empty(Strategies.Admit(CoreResources.Pods, next, old));
        Assert.Equal((0, "PreemptLowerPriority"), (next.Spec.Priority, next.Spec.PreemptionPolicy));
    }

    [Fact]
    public void A_replace_that_changes_the_priority_is_forbidden()
    {
        var old = Pod();
        Assert.Empty(Strategies.Admit(CoreResources.Pods, old));
        var next = Pod();
        next.Metadata.ResourceVersion = "7";
        next.Spec.Priority = 5;

        var cause = Assert.Single(Strategies.Admit(CoreResources.Pods, next, old));
        Assert.Equal(("spec", "FieldValueForbidden"), (cause.Field, cause.Reason));
    }

    [Fact]
    public void A_bound_pod_cannot_move() =>
        Assert.Equal("spec", Assert.Single(Update(Pod(node: "n1"), Pod(node: "n2"))).Field);
}
