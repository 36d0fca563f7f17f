using k8s.Models;
using Xunit;

namespace Orchestrator.Master.Tests.Api.Protobuf;

/// <summary>autoscaling/v2 HorizontalPodAutoscaler bodies as client-go's protobuf clients send them (the autoscaler
/// writes status so too), hand-encoded with Kubernetes' field numbers.</summary>
public class AutoscalingV2DecodingTests
{
    private static V2HorizontalPodAutoscaler Decode() => Fixtures.Decode<V2HorizontalPodAutoscaler>(ProtoWriter.Envelope(
        "autoscaling/v2", "HorizontalPodAutoscaler", new ProtoWriter()
            .Message(1, m => m.String(1, "web").String(3, "default"))
            .Message(2, s => s
                .Message(1, r => r.String(1, "Deployment").String(2, "web").String(3, "apps/v1")) // scaleTargetRef
                .Varint(2, 1) // minReplicas
                .Varint(3, 10) // maxReplicas
                .Message(4, m => m.String(1, "Resource") // metrics[0]: resource cpu at 60%
                    .Message(4, r => r.String(1, "cpu").Message(2, t => t.String(1, "Utilization").Varint(4, 60))))
                .Message(4, m => m.String(1, "Pods") // metrics[1]: pods metric with an average value
                    .Message(3, p => p.Message(1, id => id.String(1, "requests_per_second")
                            .Message(2, sel => sel.Entry(1, "verb", "GET")))
                        .Message(2, t => t.String(1, "AverageValue").Message(3, q => q.String(1, "1k")))))
                .Message(4, m => m.String(1, "ContainerResource")
                    .Message(7, c => c.String(1, "memory").Message(2, t => t.String(1, "AverageValue").Message(3, q => q.String(1, "500Mi")))
                        .String(3, "app")))
                .Message(4, m => m.String(1, "Object")
                    .Message(2, o => o.Message(1, r => r.String(1, "Ingress").String(2, "main").String(3, "networking.k8s.io/v1"))
                        .Message(2, t => t.String(1, "Value").Message(2, q => q.String(1, "2k")))
                        .Message(3, id => id.String(1, "hits"))))
                .Message(4, m => m.String(1, "External")
                    .Message(5, e => e.Message(1, id => id.String(1, "queue_depth")).Message(2, t => t.String(1, "Value").Message(2, q => q.String(1, "30")))))
                .Message(5, b => b // behavior
                    .Message(2, d => d.String(1, "Min") // scaleDown {selectPolicy, policies, stabilizationWindowSeconds}
                        .Message(2, p => p.String(1, "Pods").Varint(2, 4).Varint(3, 60))
                        .Varint(3, 0)))) // a pointer: zero is set
            .Message(3, st => st
                .Varint(1, 3) // observedGeneration
                .Message(2, t => t.Varint(1, 1_764_000_000)) // lastScaleTime
                .Varint(3, 2).Varint(4, 3) // currentReplicas, desiredReplicas
                .Message(5, m => m.String(1, "Resource")
                    .Message(4, r => r.String(1, "cpu").Message(2, c => c.Message(2, q => q.String(1, "120m")).Varint(3, 80))))
                .Message(6, c => c.String(1, "AbleToScale").String(2, "True").Message(3, t => t.Varint(1, 1_764_000_000))
                    .String(4, "SucceededRescale").String(5, "scaled")))));

    [Fact]
    public void A_v2_autoscaler_keeps_its_target_and_every_metric_source()
    {
        var spec = Decode().Spec;

        Assert.Equal(("Deployment", "web", "apps/v1"), (spec.ScaleTargetRef.Kind, spec.ScaleTargetRef.Name, spec.ScaleTargetRef.ApiVersion));
        Assert.Equal((1, 10), (spec.MinReplicas, spec.MaxReplicas));
        Assert.Equal(5, spec.Metrics.Count);
        Assert.Equal(("cpu", "Utilization", 60), (spec.Metrics[0].Resource.Name, spec.Metrics[0].Resource.Target.Type,
            spec.Metrics[0].Resource.Target.AverageUtilization));
        Assert.Null(spec.Metrics[0].Resource.Target.AverageValue);
        var pods = spec.Metrics[1].Pods;
        Assert.Equal(("requests_per_second", "GET", "1k"), (pods.Metric.Name, pods.Metric.Selector.MatchLabels["verb"], pods.Target.AverageValue.ToString()));
        var container = spec.Metrics[2].ContainerResource;
        Assert.Equal(("memory", "app", "500Mi"), (container.Name, container.Container, container.Target.AverageValue.ToString()));
        var obj = spec.Metrics[3].ObjectProperty;
        Assert.Equal(("Ingress", "hits", "2k"), (obj.DescribedObject.Kind, obj.Metric.Name, obj.Target.Value.ToString()));
        Assert.Equal(("queue_depth", "30"), (spec.Metrics[4].External.Metric.Name, spec.Metrics[4].External.Target.Value.ToString()));
    }

    [Fact]
    public void A_v2_autoscaler_keeps_its_behavior_with_a_zero_stabilization_window()
    {
        var behavior = Decode().Spec.Behavior;

        Assert.Null(behavior.ScaleUp);
        Assert.Equal(("Min", 0), (behavior.ScaleDown.SelectPolicy, behavior.ScaleDown.StabilizationWindowSeconds));
        var policy = Assert.Single(behavior.ScaleDown.Policies);
        Assert.Equal(("Pods", 4, 60), (policy.Type, policy.Value, policy.PeriodSeconds));
    }

    [Fact]
    public void A_v2_autoscaler_status_is_decoded_for_its_status_subresource()
    {
        var status = Decode().Status;

        Assert.Equal((3L, 2, 3), (status.ObservedGeneration, status.CurrentReplicas, status.DesiredReplicas));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_764_000_000).UtcDateTime, status.LastScaleTime);
        var current = Assert.Single(status.CurrentMetrics).Resource;
        Assert.Equal(("cpu", "120m", 80), (current.Name, current.Current.AverageValue.ToString(), current.Current.AverageUtilization));
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("AbleToScale", "True", "SucceededRescale", "scaled"), (condition.Type, condition.Status, condition.Reason, condition.Message));
    }
}
