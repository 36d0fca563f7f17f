using k8s.Models;
using Orchestrator.Master.Store;
using Orchestrator.Master.Tests.Controllers.Support;
using Xunit;
using Xunit.Abstractions;
using static Orchestrator.Master.Tests.Controllers.Support.Objects;

namespace Orchestrator.Master.Tests.Registry.Validation;

/// <summary>Node taints are validated as kube's validateNodeTaints: a bad one is refused (422) and nothing changes.</summary>
public sealed class NodeTaintValidationTests(ITestOutputHelper output) : ControllerTestKit(output)
{
    private string Refusal(params V1Taint[] taints)
    {
        var node = Find<V1Node>("n1")!;
        node.Spec.Taints = taints.ToList();
        var e = Assert.Throws<InvalidOperationException>(() => Write(new UpdateObject("nodes", node)));
        return e.Message;
    }

    [Fact]
    public void A_misspelt_effect_a_bad_key_or_value_and_a_duplicate_key_and_effect_are_refused()
    {
        Seed(Node("n1"));
        Assert.Contains("422", Refusal(new V1Taint { Key = "dedicated", Effect = "NoExecut" }));
        Assert.Contains("spec.taints[0].effect: Unsupported value: \"NoExecut\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            Refusal(new V1Taint { Key = "dedicated", Effect = "NoExecut" }));
        Assert.Contains("spec.taints[0].effect: Required value", Refusal(new V1Taint { Key = "dedicated" }));
        Assert.Contains("spec.taints[0].key: Invalid value: \"bad key\"", Refusal(new V1Taint { Key = "bad key", Effect = "NoSchedule" }));
        Assert.Contains("spec.taints[0].value: Invalid value: \"bad value\"", Refusal(new V1Taint { Key = "k", Value = "bad value", Effect = "NoSchedule" }));
        Assert.Contains("spec.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"b\", Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
            Refusal(new V1Taint { Key = "k", Value = "a", Effect = "NoSchedule" }, new V1Taint { Key = "k", Value = "b", Effect = "NoSchedule" }));
        Assert.Null(Find<V1Node>("n1")!.Spec.Taints);

        // the same key with two effects is two taints
        var node = Find<V1Node>("n1")!;
        node.Spec.Taints = [new V1Taint { Key = "k", Effect = "NoSchedule" }, new V1Taint { Key = "k", Effect = "NoExecute" }];
        Write(new UpdateObject("nodes", node));
        Assert.Equal(2, Find<V1Node>("n1")!.Spec.Taints.Count);
    }
}
