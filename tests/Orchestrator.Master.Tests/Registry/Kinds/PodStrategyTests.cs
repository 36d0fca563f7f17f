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
    public void A_bound_pod_cannot_move() =>
        Assert.Equal("spec", Assert.Single(Update(Pod(node: "n1"), Pod(node: "n2"))).Field);
}
