using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>Deployment, ReplicaSet and ReplicationController specs, hand-encoded with Kubernetes' field numbers.</summary>
public class WorkloadDecodingTests
{
    private static ProtoWriter Template(string app) => new ProtoWriter()
        .Message(1, m => m.Entry(11, "app", app)) // metadata.labels
        .Message(2, s => s.Message(2, c => c.String(1, "c").String(2, "img"))); // spec.containers

    private static V1Deployment DecodeRollingDeployment() => Fixtures.Decode<V1Deployment>(ProtoWriter.Envelope(
        "apps/v1", "Deployment", new ProtoWriter()
            .Message(1, m => m.String(1, "api"))
            .Message(2, s => s
                .Varint(1, 0) // replicas (a pointer: 0 is a value)
                .Message(2, sel => sel.Message(2, r => r.String(1, "tier").String(2, "In").String(3, "web").String(3, "api")))
                .Message(3, Template("api"))
                .Message(4, st => st.String(1, "RollingUpdate") // strategy {type, rollingUpdate {maxUnavailable, maxSurge}}
                    .Message(2, ru => ru.Int(1, 0).Str(2, "25%")))
                .Varint(5, 5) // minReadySeconds
                .Varint(6, 0) // revisionHistoryLimit
                .Bool(7, true) // paused
                .Varint(9, 600)))); // progressDeadlineSeconds

    [Fact]
    public void Deployment_pointer_fields_keep_explicit_zeroes()
    {
        var spec = DecodeRollingDeployment().Spec;

        Assert.Equal(0, spec.Replicas);
        Assert.Equal(0, spec.RevisionHistoryLimit);
        Assert.Equal("0", spec.Strategy.RollingUpdate.MaxUnavailable?.Value);
    }

    [Fact]
    public void Deployment_strategy_and_timing_fields_are_decoded()
    {
        var spec = DecodeRollingDeployment().Spec;

        Assert.Equal("RollingUpdate", spec.Strategy.Type);
        Assert.Equal("25%", spec.Strategy.RollingUpdate.MaxSurge?.Value);
        Assert.Equal(5, spec.MinReadySeconds);
        Assert.True(spec.Paused);
        Assert.Equal(600, spec.ProgressDeadlineSeconds);
    }

    [Fact]
    public void Deployment_selector_expressions_and_template_are_decoded()
    {
        var spec = DecodeRollingDeployment().Spec;

        var requirement = Assert.Single(spec.Selector.MatchExpressions);
        Assert.Equal(("tier", "In"), (requirement.Key, requirement.OperatorProperty));
        Assert.Equal(["web", "api"], requirement.Values);
        Assert.Null(spec.Selector.MatchLabels);
        Assert.Equal("api", spec.Template.Metadata.Labels["app"]);
        Assert.Equal("img", Assert.Single(spec.Template.Spec.Containers).Image);
    }

    [Fact]
    public void ReplicaSet_spec_is_decoded()
    {
        var rs = Fixtures.Decode<V1ReplicaSet>(ProtoWriter.Envelope("apps/v1", "ReplicaSet", new ProtoWriter()
            .Message(1, m => m.String(1, "web-abc"))
            .Message(2, s => s
                .Varint(1, 2) // replicas
                .Message(2, sel => sel.Entry(1, "app", "web")) // selector.matchLabels
                .Message(3, Template("web"))
                .Varint(4, 3)))); // minReadySeconds

        Assert.Equal(("apps/v1", "ReplicaSet", "web-abc"), (rs.ApiVersion, rs.Kind, rs.Metadata.Name));
        Assert.Equal(2, rs.Spec.Replicas);
        Assert.Equal(3, rs.Spec.MinReadySeconds);
        Assert.Equal("web", rs.Spec.Selector.MatchLabels["app"]);
        Assert.Equal("c", Assert.Single(rs.Spec.Template.Spec.Containers).Name);
    }

    [Fact]
    public void ReplicationController_spec_is_decoded()
    {
        var rc = Fixtures.Decode<V1ReplicationController>(ProtoWriter.Envelope("v1", "ReplicationController", new ProtoWriter()
            .Message(1, m => m.String(1, "legacy"))
            .Message(2, s => s
                .Varint(1, 4) // replicas
                .Entry(2, "app", "legacy") // selector (a plain map)
                .Message(3, Template("legacy"))
                .Varint(4, 1)))); // minReadySeconds

        Assert.Equal(("v1", "ReplicationController"), (rc.ApiVersion, rc.Kind));
        Assert.Equal(4, rc.Spec.Replicas);
        Assert.Equal(1, rc.Spec.MinReadySeconds);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "legacy" }, rc.Spec.Selector);
        Assert.Equal("legacy", rc.Spec.Template.Metadata.Labels["app"]);
    }
}
