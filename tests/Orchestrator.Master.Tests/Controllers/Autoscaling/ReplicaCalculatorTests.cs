using k8s.Models;
using Orchestrator.Master.Controllers.Autoscaling;
using Xunit;

namespace Orchestrator.Master.Tests.Controllers.Autoscaling;

/// <summary>Kubernetes' replica calculator: usage ratio against the target, tolerance, and the handling of missing and
/// unready pods (cases after replica_calculator_test.go).</summary>
public sealed class ReplicaCalculatorTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    internal static V1Pod Pod(string name, string cpuRequest = "100m", string phase = "Running", bool ready = true, DateTime? started = null)
    {
        var start = started ?? Now.AddMinutes(-10);
        return new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = "uid-" + name, Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "app", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuRequest), ["memory"] = new("100Mi") } } }],
            },
            Status = new V1PodStatus
            {
                Phase = phase, StartTime = start,
                Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = start.AddSeconds(5) }],
            },
        };
    }

    private static Dictionary<string, PodMetric> Metrics(params (string Pod, long Milli)[] values) =>
        values.ToDictionary(v => v.Pod, v => new PodMetric(v.Milli, Now.AddSeconds(-5), TimeSpan.FromSeconds(10)));

    [Fact]
    public void Usage_above_target_scales_up_by_the_ratio()
    {
        var pods = new[] { Pod("a"), Pod("b") };
        var proposal = ReplicaCalculator.ForUtilization(2, 50, "cpu", null, pods, Metrics(("a", 100), ("b", 100)), Now);
        Assert.Equal(4, proposal.Replicas); // 100% of request against 50%: twice the pods
        Assert.Equal(100, proposal.Utilization);
        Assert.Equal(100, proposal.AverageMilliValue);
    }

    [Fact]
    public void Usage_within_the_tolerance_keeps_the_count()
    {
        var pods = new[] { Pod("a"), Pod("b") };
        var proposal = ReplicaCalculator.ForUtilization(2, 50, "cpu", null, pods, Metrics(("a", 54), ("b", 54)), Now);
        Assert.Equal(2, proposal.Replicas);
        Assert.Equal(54, proposal.Utilization);
    }

    [Fact]
    public void Usage_below_target_scales_down_rounding_up()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c") };
        var proposal = ReplicaCalculator.ForUtilization(3, 50, "cpu", null, pods, Metrics(("a", 10), ("b", 10), ("c", 10)), Now);
        Assert.Equal(1, proposal.Replicas); // ratio 0.2 × 3 ready pods = 0.6 → 1
    }

    [Fact]
    public void Missing_pods_count_as_at_target_when_scaling_down()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c"), Pod("d") };
        // ready ones at 10%; the two without metrics assumed at 100% of their request: 220/400 = 55%, ratio 1.1
        var proposal = ReplicaCalculator.ForUtilization(4, 50, "cpu", null, pods, Metrics(("a", 10), ("b", 10)), Now);
        Assert.Equal(4, proposal.Replicas); // the filled-in ratio crosses 1.0: no scaling
    }

    [Fact]
    public void Unready_pods_count_as_idle_when_scaling_up()
    {
        var pods = new[] { Pod("a"), Pod("b"), Pod("c", ready: false, started: Now.AddMinutes(-1)) };
        var proposal = ReplicaCalculator.ForUtilization(3, 50, "cpu", null, pods, Metrics(("a", 200), ("b", 200), ("c", 200)), Now);
        // ready ones at 200% (ratio 4); the unready one counted as 0: (200+200+0)/300 = 133% → ratio 2.66 × 3 = 8
        Assert.Equal(8, proposal.Replicas);
        Assert.Equal(200, proposal.Utilization);
    }

    [Fact]
    public void Pending_and_failed_pods_are_left_out()
    {
        var pods = new[] { Pod("a"), Pod("b", phase: "Failed"), Pod("c", phase: "Pending") };
        var proposal = ReplicaCalculator.ForUtilization(3, 50, "cpu", null, pods, Metrics(("a", 50), ("b", 100)), Now);
        Assert.Equal(3, proposal.Replicas); // 50% on the one ready pod: on target
        Assert.Equal(50, proposal.Utilization);
    }

    [Fact]
    public void A_container_without_a_request_is_an_error_with_kubernetes_message()
    {
        var pod = Pod("a");
        pod.Spec.Containers[0].Resources.Requests.Remove("cpu");
        var e = Assert.Throws<ReplicaCalculationException>(() =>
            ReplicaCalculator.ForUtilization(1, 50, "cpu", null, [pod], Metrics(("a", 25)), Now));
        Assert.Equal("missing request for cpu in container app of Pod a", e.Message);
    }

    [Fact]
    public void No_pods_is_an_error()
    {
        var e = Assert.Throws<ReplicaCalculationException>(() => ReplicaCalculator.ForUtilization(1, 50, "cpu", null, [], Metrics(), Now));
        Assert.Equal("no pods returned by selector while calculating replica count", e.Message);
    }

    [Fact]
    public void An_average_value_target_divides_the_average_usage()
    {
        var pods = new[] { Pod("a"), Pod("b") };
        // 300Mi average against 100Mi in millibytes
        var mi = 1024L * 1024 * 1000;
        var proposal = ReplicaCalculator.ForAverageValue(2, 100 * mi, "memory", pods, Metrics(("a", 300 * mi), ("b", 300 * mi)), Now);
        Assert.Equal(6, proposal.Replicas);
        Assert.Null(proposal.Utilization);
        Assert.Equal(300 * mi, proposal.AverageMilliValue);
    }

    [Fact]
    public void A_cpu_sample_from_before_the_pod_was_ready_for_a_window_is_not_trusted()
    {
        var started = Now.AddSeconds(-20);
        var pod = Pod("a", started: started); // ready at started+5 s, sample at Now-5 s with a 10 s window: 15 s after → trusted
        var late = Pod("b", started: Now.AddSeconds(-8)); // ready at Now-3 s: the sample at Now-5 s is before
        var (ready, unready, _, _) = ReplicaCalculator.GroupPods([pod, late], Metrics(("a", 10), ("b", 10)), "cpu", Now);
        Assert.Equal(1, ready);
        Assert.Equal(new[] { "b" }, unready.ToArray());
    }
}
