using k8s.Models;
using Orchestrator.Master.Registry.Validation;
using Orchestrator.Master.Store;
using Xunit;

namespace Orchestrator.Master.Tests.Registry.Validation;

/// <summary>Pod tolerations are validated as Kubernetes 1.32's ValidateTolerations validates them.</summary>
public sealed class TolerationRulesTests
{
    private static List<StoreErrorCause> Validate(params V1Toleration[] tolerations)
    {
        var causes = new List<StoreErrorCause>();
        PodSpecs.Validate(new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "i" }], Tolerations = tolerations },
            "spec", causes);
        return causes;
    }

    [Fact]
    public void The_docs_tolerations_are_accepted() => Assert.Empty(Validate(
        new V1Toleration { Key = "key1", OperatorProperty = "Equal", Value = "value1", Effect = "NoSchedule" },
        new V1Toleration { Key = "node-role.kubernetes.io/master", Effect = "NoSchedule" },
        new V1Toleration { Key = "CriticalAddonsOnly", OperatorProperty = "Exists" },
        new V1Toleration { OperatorProperty = "Exists" },
        new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 6000 }));

    [Fact]
    public void A_numeric_operator_of_a_later_release_is_refused()
    {
        // content/en/examples/pods/pod-with-numeric-toleration.yaml (Gt/Lt came after 1.32): it was stored before
        var cause = Assert.Single(Validate(new V1Toleration
        {
            Key = "servicelevel.organization.example/agreed-service-level", OperatorProperty = "Gt", Value = "900", Effect = "NoSchedule",
        }));
        Assert.Equal("spec.tolerations[0].operator", cause.Field);
        Assert.Equal("Unsupported value: \"Gt\": supported values: \"Equal\", \"Exists\"", cause.Message);
    }

    [Fact]
    public void Keys_values_effects_and_seconds_are_checked()
    {
        var causes = Validate(
            new V1Toleration { OperatorProperty = "Equal", Value = "x" },
            new V1Toleration { Key = "k", OperatorProperty = "Exists", Value = "x" },
            new V1Toleration { Key = "k", Value = "not a value!" },
            new V1Toleration { Key = "bad key", OperatorProperty = "Exists" },
            new V1Toleration { Key = "k", OperatorProperty = "Exists", Effect = "NoSchedule", TolerationSeconds = 5 },
            new V1Toleration { Key = "k", OperatorProperty = "Exists", Effect = "Sometimes" });
        Assert.Equal(["spec.tolerations[0].operator", "spec.tolerations[1].operator", "spec.tolerations[2].operator",
            "spec.tolerations[3].key", "spec.tolerations[4].effect", "spec.tolerations[5].effect"], causes.Select(c => c.Field));
        Assert.Equal("Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            causes[0].Message);
        Assert.Equal("Invalid value: core.Toleration{Key:\"k\", Operator:\"Exists\", Value:\"x\", Effect:\"\", TolerationSeconds:(*int64)(nil)}: " +
                     "value must be empty when `operator` is 'Exists'", causes[1].Message);
        Assert.Equal("Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set", causes[4].Message);
        Assert.Equal("Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"", causes[5].Message);
    }
}
