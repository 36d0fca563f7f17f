using k8s.Models;
using Orchestrator.Master.Controllers.Autoscaling;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers.Autoscaling;

/// <summary>Stabilization windows and scaling policies, as horizontal.go normalizes a proposal.</summary>
public sealed class ScalingNormalizerTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V2HPAScalingRules Rules(int window, string select = "Max", params (string Type, int Value, int Period)[] policies) => new()
    {
        StabilizationWindowSeconds = window, SelectPolicy = select,
        Policies = policies.Select(p => new V2HPAScalingPolicy { Type = p.Type, Value = p.Value, PeriodSeconds = p.Period }).ToList(),
    };

    private static V2HorizontalPodAutoscalerBehavior Behavior(V2HPAScalingRules? up = null, V2HPAScalingRules? down = null) => new()
    {
        ScaleUp = up ?? Rules(0, "Max", ("Pods", 4, 15), ("Percent", 100, 15)),
        ScaleDown = down ?? Rules(300, "Max", ("Percent", 100, 15)),
    };

    [Fact]
    public void Without_behavior_a_scale_down_waits_out_the_highest_recent_recommendation()
    {
        var normalizer = new ScalingNormalizer(TimeSpan.FromMinutes(5));
        normalizer.RecordInitial("k", 5, Now.AddMinutes(-1));
        var result = normalizer.Legacy("k", 5, 2, 1, 10, Now);
        Assert.Equal(5, result.Replicas);
        Assert.Equal("ScaleDownStabilized", result.AbleReason);
        Assert.False(result.Limited);

        var later = normalizer.Legacy("k", 5, 2, 1, 10, Now.AddMinutes(6)); // both recommendations of 5 and 2 aged out but the last
        Assert.Equal(2, later.Replicas);
        Assert.Equal("ReadyForNewScale", later.AbleReason);
    }

    [Fact]
    public void Without_behavior_scaling_up_at_most_doubles_or_reaches_four()
    {
        var normalizer = new ScalingNormalizer(TimeSpan.FromMinutes(5));
        var result = normalizer.Legacy("k", 3, 20, 1, 10, Now);
        Assert.Equal(6, result.Replicas);
        Assert.True(result.Limited);
        Assert.Equal("ScaleUpLimit", result.LimitReason);
        Assert.Equal("the desired replica count is increasing faster than the maximum scale rate", result.LimitMessage);

        var capped = new ScalingNormalizer(TimeSpan.FromMinutes(5)).Legacy("k", 4, 20, 1, 5, Now);
        Assert.Equal(5, capped.Replicas);
        Assert.Equal("TooManyReplicas", capped.LimitReason);
    }

    [Fact]
    public void The_minimum_is_kept_with_too_few_replicas()
    {
        var result = new ScalingNormalizer(TimeSpan.Zero).Legacy("k", 3, 1, 2, 10, Now);
        Assert.Equal(2, result.Replicas);
        Assert.Equal("TooFewReplicas", result.LimitReason);
        Assert.Equal("the desired replica count is less than the minimum replica count", result.LimitMessage);
    }

    [Fact]
    public void Default_scale_up_policies_take_the_larger_of_four_pods_and_doubling()
    {
        var normalizer = new ScalingNormalizer(TimeSpan.FromMinutes(5));
        var result = normalizer.WithBehavior("k", Behavior(), 1, 10, 1, 20, Now);
        Assert.Equal(5, result.Replicas); // 1 + 4 pods beats 1 × 2
        Assert.Equal("ScaleUpLimit", result.LimitReason);
        var more = normalizer.WithBehavior("k2", Behavior(), 10, 40, 1, 50, Now);
        Assert.Equal(20, more.Replicas); // doubling beats 10 + 4
    }

    [Fact]
    public void Select_policy_min_takes_the_smaller_change()
    {
        var up = Rules(0, "Min", ("Pods", 4, 15), ("Percent", 100, 15));
        var result = new ScalingNormalizer(TimeSpan.Zero).WithBehavior("k", Behavior(up: up), 10, 40, 1, 50, Now);
        Assert.Equal(14, result.Replicas);
    }

    [Fact]
    public void Select_policy_disabled_never_scales_that_way()
    {
        var down = Rules(0, "Disabled", ("Percent", 100, 15));
        var result = new ScalingNormalizer(TimeSpan.Zero).WithBehavior("k", Behavior(down: down), 5, 1, 1, 10, Now);
        Assert.Equal(5, result.Replicas);
        Assert.Equal("ScaleDownLimit", result.LimitReason);
    }

    [Fact]
    public void Changes_within_a_policy_period_count_against_it()
    {
        var normalizer = new ScalingNormalizer(TimeSpan.Zero);
        var down = Rules(0, "Max", ("Pods", 1, 60));
        var behavior = Behavior(down: down);
        Assert.Equal(4, normalizer.WithBehavior("k", behavior, 5, 1, 1, 10, Now).Replicas);
        normalizer.RecordScale("k", behavior, 5, 4, Now);
        // one pod removed 10 s ago: the period allows no more
        Assert.Equal(4, normalizer.WithBehavior("k", behavior, 4, 1, 1, 10, Now.AddSeconds(10)).Replicas);
        // after the period another one may go
        Assert.Equal(3, normalizer.WithBehavior("k", behavior, 4, 1, 1, 10, Now.AddSeconds(61)).Replicas);
    }

    [Fact]
    public void A_scale_down_window_keeps_the_highest_recommendation_in_it()
    {
        var normalizer = new ScalingNormalizer(TimeSpan.FromMinutes(5));
        var behavior = Behavior(down: Rules(30, "Max", ("Percent", 100, 15)));
        Assert.Equal(4, normalizer.WithBehavior("k", behavior, 4, 4, 1, 10, Now).Replicas);
        var held = normalizer.WithBehavior("k", behavior, 4, 1, 1, 10, Now.AddSeconds(15));
        Assert.Equal(4, held.Replicas);
        Assert.Equal("ScaleDownStabilized", held.AbleReason);
        Assert.Equal(1, normalizer.WithBehavior("k", behavior, 4, 1, 1, 10, Now.AddSeconds(40)).Replicas);
    }

    [Fact]
    public void A_scale_up_window_keeps_the_lowest_recommendation_in_it()
    {
        var normalizer = new ScalingNormalizer(TimeSpan.FromMinutes(5));
        var behavior = Behavior(up: Rules(60, "Max", ("Percent", 100, 15)));
        Assert.Equal(2, normalizer.WithBehavior("k", behavior, 2, 2, 1, 10, Now).Replicas);
        var held = normalizer.WithBehavior("k", behavior, 2, 4, 1, 10, Now.AddSeconds(15));
        Assert.Equal(2, held.Replicas);
        Assert.Equal("ScaleUpStabilized", held.AbleReason);
    }
}
